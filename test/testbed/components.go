package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

func (c *Cluster) startEtcd() error {
	client := "http://127.0.0.1:" + strconv.Itoa(c.ports["etcd"])
	p, err := startProcess(c.Dir, "etcd", c.bin("etcd"),
		"--data-dir", filepath.Join(c.Dir, "etcd-data"),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(c.ports["etcd-peer"]),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(c.ports["etcd-peer"]),
		"--initial-cluster", "default=http://127.0.0.1:"+strconv.Itoa(c.ports["etcd-peer"]),
		"--quota-backend-bytes=8589934592", "--unsafe-no-fsync")
	if err != nil {
		return err
	}
	c.addProc(p)
	return nil
}

func (c *Cluster) apiserverArgs() []string {
	args := []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(c.ports["etcd"]),
		"--secure-port=" + strconv.Itoa(c.ports["apiserver"]),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		// On loopback the endpoint reconciler would publish 127.0.0.1 for the kubernetes Service.
		"--endpoint-reconciler-type=none",
		"--tls-cert-file=" + c.pki.Serving[0], "--tls-private-key-file=" + c.pki.Serving[1],
		"--client-ca-file=" + c.pki.CACert,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + c.pki.SAPub, "--service-account-signing-key-file=" + c.pki.SAKey,
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--authorization-mode=Node,RBAC", "--allow-privileged=true",
	}
	if !c.opts.Webhooks {
		args = append(args, "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook")
	}
	return args
}

// StartAPIServer starts kube-apiserver (again, after KillAPIServer) and waits for /readyz.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	p, err := startProcess(c.Dir, "kube-apiserver", c.bin("kube-apiserver"), c.apiserverArgs()...)
	if err != nil {
		return err
	}
	c.addProc(p)
	return c.waitAPIServer(ctx, p)
}

// KillAPIServer kills kube-apiserver with SIGKILL (fault injection). StartAPIServer brings it back.
func (c *Cluster) KillAPIServer() {
	c.mu.Lock()
	p := c.procs["kube-apiserver"]
	c.mu.Unlock()
	p.kill()
}

func (c *Cluster) waitAPIServer(ctx context.Context, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if done, err := p.exited(); done {
			return false, fmt.Errorf("kube-apiserver exited: %v", err)
		}
		_, last = c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return last == nil, nil
	})
	if err != nil {
		return fmt.Errorf("testbed: kube-apiserver not ready: %w (last: %v)", err, last)
	}
	return nil
}

func (c *Cluster) startControllers() error {
	kc := c.Kubeconfig
	kcmArgs := []string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(c.ports["kcm"]), "--leader-elect=false",
		"--root-ca-file=" + c.pki.CACert, "--service-account-private-key-file=" + c.pki.SAKey,
		"--use-service-account-credentials=true",
		// nodeipam off (kwok assigns pod CIDRs); nodelifecycle must run or the not-ready taint stays.
		"--controllers=*,-nodeipam",
	}
	// 1.21 still serves an insecure port (10252/10251) unless --port=0: two test beds would clash.
	insecureOff := []string{}
	if c.Version == V121 {
		insecureOff = []string{"--port=0"}
	}
	kcmArgs = append(kcmArgs, insecureOff...)
	if !c.opts.NoSigning {
		kcmArgs = append(kcmArgs, "--cluster-signing-cert-file="+c.pki.CACert, "--cluster-signing-key-file="+c.pki.CAKey)
	}
	p, err := startProcess(c.Dir, "kube-controller-manager", c.bin("kube-controller-manager"), kcmArgs...)
	if err != nil {
		return err
	}
	c.addProc(p)
	p, err = startProcess(c.Dir, "kube-scheduler", c.bin("kube-scheduler"), append([]string{
		"--kubeconfig=" + kc, "--authentication-kubeconfig=" + kc, "--authorization-kubeconfig=" + kc,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(c.ports["scheduler"]), "--leader-elect=false"}, insecureOff...)...)
	if err != nil {
		return err
	}
	c.addProc(p)
	stages, err := c.writeStages()
	if err != nil {
		return err
	}
	p, err = startProcess(c.Dir, "kwok", c.bin("kwok"),
		"--kubeconfig="+kc, "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr="+PodCIDR, "--node-ip="+NodeIP,
		"--server-address=127.0.0.1:"+strconv.Itoa(c.ports["kwok"]),
		// with the heartbeat-with-lease stage, or node-lifecycle marks the nodes unhealthy after ~40 s
		"--node-lease-duration-seconds=40")
	if err != nil {
		return err
	}
	c.addProc(p)
	return nil
}

// writeStages concatenates kwok's stock stage configs: node initialize + heartbeat with lease, and
// the pod lifecycle (ready, complete for Job pods, delete).
func (c *Cluster) writeStages() (string, error) {
	root := c.bin("kwok-stages")
	var files []string
	for _, pattern := range []string{"node/fast/node-initialize.yaml", "node/heartbeat-with-lease/*.yaml", "pod/fast/pod-*.yaml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(m) == 0 {
			return "", fmt.Errorf("testbed: kwok stage %s not found under %s: run `make testbin`", pattern, root)
		}
		files = append(files, m...)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		b.WriteString("---\n")
		b.Write(data)
		b.WriteString("\n")
	}
	out := filepath.Join(c.Dir, "kwok-stages.yaml")
	return out, os.WriteFile(out, []byte(b.String()), 0o644)
}

// Node names of the runbook's cluster.
const (
	MasterNode = "master"
	GPUNode    = "gpu-worker"
)

// RunbookNodes returns the runbook's two RKE nodes as kwok-managed Node objects, annotated as RKE
// annotates its nodes (rke.cattle.io/external-ip and internal-ip: how the plugin tells RKE1 from
// RKE2 and k3s for its fixes).
func RunbookNodes() []*corev1.Node {
	node := func(name string, cpu, mem string, labels map[string]string, extra corev1.ResourceList) *corev1.Node {
		l := map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
		for k, v := range labels {
			l[k] = v
		}
		res := corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem),
			corev1.ResourcePods: resource.MustParse("250"), corev1.ResourceEphemeralStorage: resource.MustParse("800Gi"),
		}
		for k, v := range extra {
			res[k] = v
		}
		return &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake",
				"rke.cattle.io/external-ip": "127.0.0.1", "rke.cattle.io/internal-ip": "127.0.0.1"}},
			Status: corev1.NodeStatus{Capacity: res, Allocatable: res.DeepCopy()},
		}
	}
	return []*corev1.Node{
		node(MasterNode, "12", "32Gi", map[string]string{
			"node-role.kubernetes.io/etcd": "true", "node-role.kubernetes.io/controlplane": "true", "node-role.kubernetes.io/worker": "true",
		}, nil),
		node(GPUNode, "64", "124Gi", map[string]string{
			"node-role.kubernetes.io/worker": "true",
			"nvidia.com/gpu.present":         "true", "nvidia.com/gpu.product": "Tesla-T4", "nvidia.com/gpu.count": "1",
		}, corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}),
	}
}

func (c *Cluster) createNodes(ctx context.Context) error {
	for _, n := range RunbookNodes() {
		if _, err := c.Client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("testbed: create node %s: %w", n.Name, err)
		}
	}
	return nil
}

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var why string
	err := wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		for name, p := range c.procs {
			if done, err := p.exited(); done {
				return false, fmt.Errorf("%s exited: %v", name, err)
			}
		}
		nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		for _, n := range nodes.Items {
			if !nodeReady(&n) {
				why = "node " + n.Name + " not Ready"
				return false, nil
			}
			if len(n.Spec.Taints) > 0 {
				why = fmt.Sprintf("node %s tainted %s", n.Name, n.Spec.Taints[0].Key)
				return false, nil
			}
		}
		if _, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			why = "default ServiceAccount: " + err.Error()
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("testbed: not ready: %w (%s)", err, why)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func parseIPs(ss []string) []net.IP {
	out := make([]net.IP, 0, len(ss))
	for _, s := range ss {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, ip)
		}
	}
	return out
}

// ErrNotBuilt is wrapped by FindBinDir and FindAPIServerBinDir when a binary is missing.
var ErrNotBuilt = errors.New("test-bed binary not built")

// FindBinDir locates the binaries of a full bed for version: $TESTBIN/<version>, else
// .testbin/<version> at the module root. It fails with the command that builds them.
func FindBinDir(version string) (string, error) {
	return findBinDir(version, "", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
}

// FindAPIServerBinDir locates etcd and kube-apiserver for an apiserver-only bed of version, as
// FindBinDir does.
func FindAPIServerBinDir(version string) (string, error) {
	return findBinDir(version, "apiserver ", "etcd", "kube-apiserver")
}

func findBinDir(version, target string, bins ...string) (string, error) {
	root := os.Getenv("TESTBIN")
	if root == "" {
		r, err := ModuleRoot()
		if err != nil {
			return "", err
		}
		root = filepath.Join(r, ".testbin")
	}
	dir := filepath.Join(root, version)
	for _, b := range bins {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			return "", fmt.Errorf("testbed: %s for %s missing in %s: %w: run `make testbin` (or hack/testbin.sh %s%s)", b, version, dir, ErrNotBuilt, target, version)
		}
	}
	return dir, nil
}

// ModuleRoot walks up from the working directory to the folder holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testbed: no go.mod above the working directory")
		}
		dir = parent
	}
}
