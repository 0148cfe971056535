package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const gpuNS = gpucomp.DefaultNamespace

// TestGPU runs the runbook's "Using GPU" section on the test bed with the real gpu-operator chart
// (fixture repository) and the device-plugin stand-in: install, unchanged re-run, adoption of a
// release made with --generate-name, time-slicing 1 -> 4 -> 1 with the release's other values
// kept, idempotent re-runs (no resourceVersion moves), bad --replicas rejected with nothing
// changed, gpu status with a pod using shared GPUs, and verify --section gpu.
func TestGPU(t *testing.T) {
	repo := testbed.ChartRepo(t)
	c := testbed.StartT(t, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{standins.NewGPUDevicePlugin(), standins.NewAdmissionWebhooks(webhookDelay)}})
	chart := []string{"--chart-repo", repo}
	operator := append([]string{"gpu", "operator", "--set", "toolkit.enabled=false"}, chart...)
	slicing := func(args ...string) result {
		return runPlugin(t, c, append(append([]string{"gpu", "slicing"}, args...), chart...)...)
	}

	t.Run("slicing before the operator is a usage error", func(t *testing.T) {
		r := slicing("--replicas", "2")
		if r.code != 2 || !strings.Contains(r.stderr, "kubectl flexigrobots gpu operator") {
			t.Fatalf("want exit 2 telling to run gpu operator first, got %d", r.code)
		}
		if _, err := c.Client.CoreV1().ConfigMaps(gpuNS).Get(context.Background(), gpucomp.DefaultConfigName, metav1.GetOptions{}); err == nil {
			t.Fatal("the config ConfigMap was written although the command was rejected")
		}
	})

	t.Run("no GPU node is a usage error", func(t *testing.T) {
		gpuPatchNode(t, c, `{"metadata":{"labels":{"nvidia.com/gpu.present":null}}}`, `{"status":{"capacity":{"nvidia.com/gpu":null},"allocatable":{"nvidia.com/gpu":null}}}`)
		defer gpuPatchNode(t, c, `{"metadata":{"labels":{"nvidia.com/gpu.present":"true"}}}`, `{"status":{"capacity":{"nvidia.com/gpu":"1"},"allocatable":{"nvidia.com/gpu":"1"}}}`)
		r := slicing("--replicas", "2")
		if r.code != 2 || !strings.Contains(r.stderr, "no node advertises NVIDIA GPUs") || !strings.Contains(r.stderr, "nvidia-smi") {
			t.Fatalf("want exit 2 saying no GPU node and how to check the driver, got %d", r.code)
		}
		r = runPlugin(t, c, "gpu", "status")
		if r.code != 0 || !strings.Contains(r.stderr, "nvidia-smi") {
			t.Fatalf("gpu status without GPU nodes: exit %d, want 0 with the driver hint", r.code)
		}
	})

	t.Run("operator --dry-run on a fresh cluster changes nothing", func(t *testing.T) {
		r := runPlugin(t, c, append(operator, "--dry-run=client")...)
		if r.code != 0 || !strings.Contains(r.stdout, "helmrelease/gpu-operator installed (client dry run)") {
			t.Fatalf("--dry-run=client: exit %d, want the install reported as a client dry run", r.code)
		}
		// helm's server dry run cannot map ClusterPolicy before the CRDs exist: the error says what to do.
		r = runPlugin(t, c, append(operator, "--dry-run=server")...)
		if r.code != 0 && !strings.Contains(r.stderr, "use --dry-run=client") {
			t.Fatalf("--dry-run=server: exit %d without the hint to use a client dry run", r.code)
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(context.Background(), gpuNS, metav1.GetOptions{}); err == nil {
			t.Fatalf("namespace %s created by a dry run", gpuNS)
		}
	})

	t.Run("operator installs, then unchanged", func(t *testing.T) {
		r := runPlugin(t, c, operator...)
		if r.code != 0 || !strings.Contains(r.stdout, "helmrelease/gpu-operator installed") {
			t.Fatalf("gpu operator: exit %d, want the release installed", r.code)
		}
		before := gpuVersions(t, c)
		r = runPlugin(t, c, operator...)
		if r.code != 0 {
			t.Fatalf("second gpu operator: exit %d", r.code)
		}
		assertAllUnchanged(t, r.stdout)
		gpuSameVersions(t, before, gpuVersions(t, c))
	})

	t.Run("a release made with --generate-name is upgraded, not duplicated", func(t *testing.T) {
		cfg := gpuHelmConfig(t, c)
		un := action.NewUninstall(cfg)
		un.DisableHooks = true
		if _, err := un.Run("gpu-operator"); err != nil {
			t.Fatal(err)
		}
		// The runbook's `helm install --generate-name ... --set driver.enabled=false`.
		hc := helm.NewClient(c.ConfigFlags(), nil)
		hc.CacheDir = t.TempDir()
		_, _, err := hc.Ensure(context.Background(), helm.Spec{
			ReleaseName: "gpu-operator-1660041098", Namespace: gpuNS, ChartName: gpucomp.ChartName,
			Chart:  core.ChartSource{Repo: repo, Version: versions.GPUOperator.DefaultOn(versions.LastMinor).Version},
			Values: map[string]any{"driver": map[string]any{"enabled": false}}, Wait: true, Timeout: 3 * time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		r := runPlugin(t, c, operator...)
		if r.code != 0 || !strings.Contains(r.stdout, "helmrelease/gpu-operator-1660041098 upgraded") {
			t.Fatalf("gpu operator: exit %d, want gpu-operator-1660041098 upgraded", r.code)
		}
		rels, err := action.NewList(cfg).Run()
		if err != nil {
			t.Fatal(err)
		}
		if len(rels) != 1 || rels[0].Name != "gpu-operator-1660041098" {
			t.Fatalf("want only release gpu-operator-1660041098, have %d: %v", len(rels), releaseNames(rels))
		}
	})

	for _, bad := range []string{"0", "-1", "1.5", "abc", "65"} {
		t.Run("bad --replicas "+bad, func(t *testing.T) {
			before := gpuVersions(t, c)
			r := slicing("--replicas=" + bad)
			if r.code != 2 || !strings.Contains(r.stderr, "--replicas") || !strings.Contains(r.stderr, "1 to 64") {
				t.Fatalf("--replicas %s: exit %d, want 2 naming the valid range", bad, r.code)
			}
			gpuSameVersions(t, before, gpuVersions(t, c))
			if got := gpuAllocatable(t, c, gpucomp.ResourceGPU); got != 1 {
				t.Fatalf("gpu-worker advertises %d GPUs after a rejected run, want 1", got)
			}
		})
	}

	// The chart is checked before the time-slicing ConfigMap is written: a version the repository
	// does not have, or a values file that is not there, is exit 2 with nothing changed.
	for name, args := range map[string][]string{
		"a chart version that does not exist": {"--replicas", "4", "--chart-version", "v99.0.0"},
		"a values file that does not exist":   {"--replicas", "4", "-f", "/nonexistent/values.yaml"},
	} {
		t.Run(name+" changes nothing", func(t *testing.T) {
			before := gpuVersions(t, c)
			r := slicing(args...)
			if r.code != 2 {
				t.Fatalf("%v: exit %d, want 2", args, r.code)
			}
			gpuSameVersions(t, before, gpuVersions(t, c))
			if _, err := c.Client.CoreV1().ConfigMaps(gpuNS).Get(context.Background(), gpucomp.DefaultConfigName, metav1.GetOptions{}); err == nil {
				t.Fatal("the time-slicing ConfigMap was written before the chart was checked")
			}
		})
	}

	t.Run("slicing --replicas 4", func(t *testing.T) {
		if got := gpuAllocatable(t, c, gpucomp.ResourceGPU); got != 1 {
			t.Fatalf("gpu-worker starts with %d GPUs, want 1", got)
		}
		r := slicing("--replicas", "4")
		if r.code != 0 {
			t.Fatalf("gpu slicing --replicas 4: exit %d", r.code)
		}
		if got := gpuAllocatable(t, c, gpucomp.ResourceGPU); got != 4 {
			t.Fatalf("gpu-worker allocatable nvidia.com/gpu = %d, want 4", got)
		}
		row := gpuTableRow(t, r.stdout, testbed.GPUNode)
		if want := []string{testbed.GPUNode, "Tesla-T4", "1", "4", "4", "nvidia.com/gpu"}; strings.Join(row, " ") != strings.Join(want, " ") {
			t.Fatalf("table row %v, want %v", row, want)
		}
		cm, err := c.Client.CoreV1().ConfigMaps(gpuNS).Get(context.Background(), gpucomp.DefaultConfigName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data[gpucomp.ConfigKey], "replicas: 4") {
			t.Fatalf("ConfigMap key %s does not hold replicas 4:\n%s", gpucomp.ConfigKey, cm.Data[gpucomp.ConfigKey])
		}
		ds, err := c.Client.AppsV1().DaemonSets(gpuNS).Get(context.Background(), gpucomp.DevicePluginDaemonSet, metav1.GetOptions{})
		if err != nil || ds.Spec.Template.Annotations[kube.RestartedAtAnnotation] == "" {
			t.Fatalf("device plugin not restarted (%v)", err)
		}
		gpuAssertValues(t, c, gpucomp.DefaultConfigName, gpucomp.ConfigKey)
	})

	t.Run("slicing --replicas 4 again is unchanged", func(t *testing.T) {
		before := gpuVersions(t, c)
		r := slicing("--replicas", "4", "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		var rep gpu.NodesReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("-o json: %v", err)
		}
		for _, x := range rep.Results {
			if x.Action != "unchanged" {
				t.Errorf("%s/%s %s, want unchanged", x.Kind, x.Name, x.Action)
			}
		}
		if len(rep.Nodes) != 1 || rep.Nodes[0].Allocatable != 4 || rep.Nodes[0].Replicas != 4 {
			t.Fatalf("nodes %+v, want gpu-worker with 4 allocatable, 4 replicas", rep.Nodes)
		}
		gpuSameVersions(t, before, gpuVersions(t, c))
	})

	t.Run("operator re-run keeps slicing", func(t *testing.T) {
		r := runPlugin(t, c, operator...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		assertAllUnchanged(t, r.stdout)
	})

	t.Run("verify --section gpu is green", func(t *testing.T) {
		if r := runPlugin(t, c, "verify", "--section", "gpu", "--strict"); r.code != 0 || !strings.Contains(r.stdout, "GPU-003") {
			t.Fatalf("verify --section gpu: exit %d", r.code)
		}
	})

	t.Run("gpu status counts requested GPUs", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "cuda-job", Namespace: "default"},
			Spec: corev1.PodSpec{NodeSelector: map[string]string{gpucomp.LabelPresent: "true"}, Containers: []corev1.Container{{
				Name: "cuda", Image: "cuda:11.0.3-base",
				Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{gpucomp.ResourceGPU: resource.MustParse("3")}},
			}}},
		}
		if _, err := c.Client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// 3 GPUs fit only on a time-sliced T4: the scheduler must place it.
		waitRunningPods(t, c, "default", "", 1)
		r := runPlugin(t, c, "gpu", "status", "-o", "json")
		var rep gpu.NodesReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
			t.Fatalf("gpu status -o json: exit %d, %v", r.code, err)
		}
		if len(rep.Nodes) != 1 || rep.Nodes[0].Requested == nil || *rep.Nodes[0].Requested != 3 {
			t.Fatalf("nodes %+v, want gpu-worker with 3 requested", rep.Nodes)
		}
		r = runPlugin(t, c, "gpu", "status")
		if row := gpuTableRow(t, r.stdout, testbed.GPUNode); row[len(row)-1] != "3" {
			t.Fatalf("table row %v, want REQUESTED 3", row)
		}
		if err := c.Client.CoreV1().Pods("default").Delete(context.Background(), "cuda-job", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("--dry-run=server changes nothing", func(t *testing.T) {
		before := gpuVersions(t, c)
		r := slicing("--replicas", "3", "--dry-run=server")
		if r.code != 0 || !strings.Contains(r.stdout, "server dry run") {
			t.Fatalf("exit %d, want results marked as a server dry run", r.code)
		}
		gpuSameVersions(t, before, gpuVersions(t, c))
		if got := gpuAllocatable(t, c, gpucomp.ResourceGPU); got != 4 {
			t.Fatalf("allocatable %d after a dry run, want 4", got)
		}
	})

	t.Run("--rename-by-default advertises nvidia.com/gpu.shared", func(t *testing.T) {
		r := slicing("--replicas", "2", "--rename-by-default", "--fail-requests-greater-than-one")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if shared, whole := gpuAllocatable(t, c, gpucomp.ResourceShared), gpuAllocatable(t, c, gpucomp.ResourceGPU); shared != 2 || whole != 0 {
			t.Fatalf("gpu-worker advertises %d nvidia.com/gpu.shared and %d nvidia.com/gpu, want 2 and 0", shared, whole)
		}
		if row := gpuTableRow(t, r.stdout, testbed.GPUNode); strings.Join(row[2:], " ") != "1 2 2 nvidia.com/gpu.shared" {
			t.Fatalf("table row %v", row)
		}
	})

	t.Run("--disable returns to the physical count, then unchanged", func(t *testing.T) {
		r := slicing("--disable")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if got := gpuAllocatable(t, c, gpucomp.ResourceGPU); got != 1 {
			t.Fatalf("gpu-worker allocatable nvidia.com/gpu = %d, want 1", got)
		}
		if row := gpuTableRow(t, r.stdout, testbed.GPUNode); row[3] != "1" || row[4] != "1" {
			t.Fatalf("table row %v, want replicas 1, allocatable 1", row)
		}
		if _, err := c.Client.CoreV1().ConfigMaps(gpuNS).Get(context.Background(), gpucomp.DefaultConfigName, metav1.GetOptions{}); err == nil {
			t.Fatal("config ConfigMap still there after --disable")
		}
		if got := gpuAllocatable(t, c, gpucomp.ResourceShared); got != 0 {
			t.Fatalf("gpu-worker still advertises %d nvidia.com/gpu.shared", got)
		}
		gpuAssertValues(t, c, "", "")
		before := gpuVersions(t, c)
		r = slicing("--disable")
		if r.code != 0 {
			t.Fatalf("second --disable: exit %d", r.code)
		}
		assertAllUnchanged(t, strings.SplitN(r.stdout, "\n\n", 2)[0])
		gpuSameVersions(t, before, gpuVersions(t, c))
	})

	t.Run("--timeout bounds the whole run: a down webhook on ConfigMaps ends it naming the webhook", func(t *testing.T) {
		stop := downConfigMapWebhook(t, c, gpuNS)
		defer stop()
		const timeout = 20 * time.Second
		start := time.Now()
		r := slicing("--replicas", "2", "--timeout", timeout.String())
		took := time.Since(start)
		if r.code == 0 || !strings.Contains(r.stderr, "webhook "+downWebhook) || !strings.Contains(r.stderr, gpuNS+"/"+downWebhookService) {
			t.Fatalf("want a failure naming webhook %s and its Service, got exit %d", downWebhook, r.code)
		}
		// The budget is the whole command's: the chart check, the ConfigMap apply waiting on the
		// webhook and the helm upgrade all share it (the margin is the plugin's start and its
		// last requests, not a second timeout).
		if took > timeout+15*time.Second {
			t.Errorf("gpu slicing --timeout %s ran %s", timeout, took.Round(time.Second))
		}
		if _, err := c.Client.CoreV1().ConfigMaps(gpuNS).Get(context.Background(), gpucomp.DefaultConfigName, metav1.GetOptions{}); err == nil {
			t.Error("the ConfigMap the webhook refused exists")
		}
	})
	t.Run("uninstall removes the release, the time-slicing ConfigMap and the CRDs that hold nothing", func(t *testing.T) {
		if r := slicing("--replicas", "2"); r.code != 0 {
			t.Fatalf("slicing --replicas 2: exit %d", r.code)
		}
		assertGPUUninstalls(t, c, gpuNS, slicing)
	})
}
