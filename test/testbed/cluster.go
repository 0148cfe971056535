// Package testbed runs a real Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler) built from the Go module proxy, with kwok faking the
// kubelets of the runbook's two RKE nodes, or, for the extra minors (APIServerVersions), etcd and
// kube-apiserver alone (Options.APIServerOnly). Everything listens on loopback; the service CIDR
// (127.96.0.0/16) and pod CIDR (127.1.0.0/16) are loopback too, so whatever the API server dials
// (webhooks, conversion, aggregated APIs) stays on this machine.
package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Kubernetes versions the test bed can run.
const (
	V137 = "v1.37.2"  // current
	V121 = "v1.21.14" // the runbook's cluster (Kubeflow v1.5.0 needs <= 1.21)

	// Extra minors, built as kube-apiserver + etcd only (APIServerOnly beds): the Kubernetes
	// versions that bound the Kubeflow and gpu-operator releases between V121 and V137.
	V129 = "v1.29.15"
	V132 = "v1.32.13"
	V133 = "v1.33.13"
)

// APIServerVersions are the versions hack/testbin.sh builds as apiserver-only beds (its
// APISERVER_VERSIONS list), oldest first.
var APIServerVersions = []string{V129, V132, V133}

// Loopback ranges: never any other private or public range.
const (
	ServiceCIDR = "127.96.0.0/16"
	PodCIDR     = "127.1.0.1/16"
	NodeIP      = "127.0.0.1"
)

// StandIn is a small controller that imitates, in test code only, what a real node agent or
// operator would do on a real cluster (bind NFS claims, hand out LoadBalancer IPs, ...).
type StandIn interface {
	// Name says which real component it imitates.
	Name() string
	// Run works until ctx ends.
	Run(ctx context.Context, c *Cluster) error
}

// Options select the test bed's shape.
type Options struct {
	// Version is V137 (default), V121, or with APIServerOnly one of APIServerVersions.
	Version string
	// APIServerOnly runs etcd and kube-apiserver alone: no controller-manager, scheduler, kwok
	// or nodes. The API server serves everything it serves on a full bed (CRDs are established,
	// the default namespaces exist), but nothing acts on the objects: no ServiceAccounts or
	// tokens, no pods from workloads, no garbage collection, and a deleted namespace stays
	// Terminating. NoSigning has no effect.
	APIServerOnly bool
	// Webhooks turns on the MutatingAdmissionWebhook and ValidatingAdmissionWebhook admission plugins
	// (off by default: nothing can serve a webhook unless a stand-in does).
	Webhooks bool
	// NoSigning starts kube-controller-manager without --cluster-signing-cert-file/-key-file: the
	// RKE default that the runbook fixes with kube-controller extra_args.
	NoSigning bool
	// StandIns run alongside the control plane until Stop.
	StandIns []StandIn
	// Dir keeps certificates, kubeconfig, data and logs; a temp dir when empty.
	Dir string
	// BinDir holds the binaries for Version; found with FindBinDir when empty.
	BinDir string
	// Logf receives progress lines; nil is silent.
	Logf func(format string, args ...any)
}

// Cluster is a running test bed.
type Cluster struct {
	// Dir holds the kubeconfig, certificates, etcd data and one log per process.
	Dir string
	// Kubeconfig is the admin kubeconfig file (cluster-admin through system:masters).
	Kubeconfig string
	// Config is the admin REST config.
	Config *rest.Config
	// Client is a clientset on Config.
	Client kubernetes.Interface
	// Version is the Kubernetes version running.
	Version string
	// StartTime is how long Start took from the first process to ready.
	StartTime time.Duration

	opts    Options
	pki     *pki
	ports   map[string]int
	mu      sync.Mutex
	procs   map[string]*process
	cancel  context.CancelFunc
	standBy sync.WaitGroup
	stopped bool
}

// Start brings up the test bed and returns when the API server is ready, both nodes are Ready and
// untainted, and the default ServiceAccount exists; with APIServerOnly, when the API server is
// ready.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	begin := time.Now()
	if opts.Version == "" {
		opts.Version = V137
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.BinDir == "" {
		find := FindBinDir
		if opts.APIServerOnly {
			find = FindAPIServerBinDir
		}
		if opts.BinDir, err = find(opts.Version); err != nil {
			return nil, err
		}
	}
	if opts.Dir == "" {
		if opts.Dir, err = os.MkdirTemp("", "flexigrobots-testbed-"); err != nil {
			return nil, err
		}
	} else if err = os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	c = &Cluster{Dir: opts.Dir, Version: opts.Version, opts: opts, procs: map[string]*process{}}
	defer func() {
		if err != nil {
			c.Stop()
			err = fmt.Errorf("%w (logs in %s)", err, c.Dir)
		}
	}()
	if c.pki, err = newPKI(c.Dir); err != nil {
		return c, err
	}
	ports, err := freePorts(6)
	if err != nil {
		return c, err
	}
	c.ports = map[string]int{"etcd": ports[0], "etcd-peer": ports[1], "apiserver": ports[2], "kcm": ports[3], "scheduler": ports[4], "kwok": ports[5]}
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	server := "https://127.0.0.1:" + strconv.Itoa(c.ports["apiserver"])
	if err = os.WriteFile(c.Kubeconfig, []byte(kubeconfig(server, c.pki.CACert, c.pki.Admin[0], c.pki.Admin[1])), 0o600); err != nil {
		return c, err
	}
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return c, err
	}
	c.Config.QPS, c.Config.Burst = 100, 200
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return c, err
	}

	if err = c.startEtcd(); err != nil {
		return c, err
	}
	if err = c.StartAPIServer(ctx); err != nil {
		return c, err
	}
	if !opts.APIServerOnly {
		if err = c.startControllers(); err != nil {
			return c, err
		}
		if err = c.createNodes(ctx); err != nil {
			return c, err
		}
		if err = c.waitReady(ctx); err != nil {
			return c, err
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	for _, s := range opts.StandIns {
		c.standBy.Add(1)
		go func() {
			defer c.standBy.Done()
			if err := s.Run(runCtx, c); err != nil && !errors.Is(err, context.Canceled) {
				opts.Logf("stand-in %s: %v", s.Name(), err)
			}
		}()
	}
	c.StartTime = time.Since(begin)
	opts.Logf("test bed %s ready in %s (kubeconfig %s)", c.Version, c.StartTime.Round(time.Millisecond), c.Kubeconfig)
	return c, nil
}

// Stop stops the stand-ins and every process the test bed started, by PID, in reverse order.
// It is safe to call more than once.
func (c *Cluster) Stop() {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return
	}
	c.stopped = true
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
		c.standBy.Wait()
	}
	for _, name := range []string{"kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		c.mu.Lock()
		p := c.procs[name]
		c.mu.Unlock()
		p.stop(10 * time.Second)
	}
}

// PIDs returns the process IDs of the running control-plane processes by name.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for n, p := range c.procs {
		if done, _ := p.exited(); !done {
			out[n] = p.cmd.Process.Pid
		}
	}
	return out
}

// CACertFile is the cluster CA (it also signs CSRs when signing is on); stand-ins use it to serve TLS.
func (c *Cluster) CACertFile() string { return c.pki.CACert }

// IssueServingCert signs a serving certificate with the cluster CA (for stand-ins that serve
// webhooks on a loopback ClusterIP).
func (c *Cluster) IssueServingCert(name string, ips []string, dns []string) (certFile, keyFile string, err error) {
	return c.pki.IssueServing(name, parseIPs(ips), dns)
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.opts.BinDir, name) }

func (c *Cluster) addProc(p *process) {
	c.mu.Lock()
	c.procs[p.name] = p
	c.mu.Unlock()
}
