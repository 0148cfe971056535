package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// Helpers of TestGPU: helm release inspection, resourceVersion snapshots, node patches and the
// per-node table.

func gpuHelmConfig(t *testing.T, c *testbed.Cluster) *action.Configuration {
	t.Helper()
	cfg := new(action.Configuration)
	if err := cfg.Init(c.ConfigFlags(), gpuNS, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// gpuAssertValues checks that the one gpu-operator release points at the config and kept the
// values given at install time (driver.enabled=false, --set toolkit.enabled=false).
func gpuAssertValues(t *testing.T, c *testbed.Cluster, name, key string) {
	t.Helper()
	hc := helm.NewClient(c.ConfigFlags(), nil)
	rel, err := hc.Find(gpuNS, gpucomp.ChartName)
	if err != nil || rel == nil {
		t.Fatalf("find release: %v", err)
	}
	got := fmt.Sprint(rel.Config["driver"], rel.Config["toolkit"], rel.Config["devicePlugin"])
	want := fmt.Sprint(map[string]any{"enabled": false}, map[string]any{"enabled": false}, map[string]any{"config": map[string]any{"name": name, "default": key}})
	if got != want {
		t.Fatalf("release %s values %v, want %s", rel.Name, rel.Config, want)
	}
}

// gpuVersions records what a re-run must not move: the resourceVersion of every ConfigMap and
// Secret (helm's release records) in the operator namespace and of the ClusterPolicy, and the
// generation of the device plugin DaemonSet (its status moves with its pods, its spec must not).
func gpuVersions(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	cms, err := c.Client.CoreV1().ConfigMaps(gpuNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cms.Items {
		out["configmap/"+x.Name] = x.ResourceVersion
	}
	secrets, err := c.Client.CoreV1().Secrets(gpuNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range secrets.Items {
		out["secret/"+x.Name] = x.ResourceVersion
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if cp, err := dyn.Resource(gpucomp.ClusterPoliciesGVR).Get(ctx, gpucomp.ClusterPolicyName, metav1.GetOptions{}); err == nil {
		out["clusterpolicy/"+cp.GetName()] = cp.GetResourceVersion()
	}
	if ds, err := c.Client.AppsV1().DaemonSets(gpuNS).Get(ctx, gpucomp.DevicePluginDaemonSet, metav1.GetOptions{}); err == nil {
		out["daemonset/"+ds.Name+" generation"] = fmt.Sprint(ds.Generation)
	}
	return out
}

func gpuSameVersions(t *testing.T, before, after map[string]string) {
	t.Helper()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("objects moved:\nbefore %v\nafter  %v", before, after)
	}
}

// gpuAllocatable returns gpu-worker's allocatable count of a resource.
func gpuAllocatable(t *testing.T, c *testbed.Cluster, name corev1.ResourceName) int64 {
	t.Helper()
	n, err := c.Client.CoreV1().Nodes().Get(context.Background(), testbed.GPUNode, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q := n.Status.Allocatable[name]
	return q.Value()
}

// gpuPatchNode merge-patches gpu-worker's metadata and status (what GFD and the kubelet report).
func gpuPatchNode(t *testing.T, c *testbed.Cluster, meta, status string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Client.CoreV1().Nodes().Patch(ctx, testbed.GPUNode, types.MergePatchType, []byte(meta), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().Nodes().Patch(ctx, testbed.GPUNode, types.MergePatchType, []byte(status), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
}

// gpuTableRow returns the fields of node's row in a gpu table.
func gpuTableRow(t *testing.T, out, node string) []string {
	t.Helper()
	header := false
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == "NODE" {
			header = true
		}
		if header && len(f) > 0 && f[0] == node {
			return f
		}
	}
	t.Fatalf("no table row for %s in:\n%s", node, out)
	return nil
}

func assertAllUnchanged(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) == 0 || lines[0] == "" {
		t.Fatal("no result lines")
	}
	for _, l := range lines {
		if !strings.Contains(l, " unchanged") {
			t.Errorf("want unchanged: %s", l)
		}
	}
}

func releaseNames(rels []*release.Release) []string {
	var out []string
	for _, r := range rels {
		out = append(out, r.Name)
	}
	return out
}
