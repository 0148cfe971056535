package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertGPUUninstalls proves `gpu uninstall` on a bed with the operator and time-slicing: a dry
// run reports the release and the ConfigMap and deletes nothing; the real one deletes the release
// (through helm: no release record left), both time-slicing ConfigMaps (the default one and the
// one `slicing --config-name` pointed the device plugin at), the CRDs of the chart's crds/ folders that
// hold nothing, but keeps the one holding a custom resource made by hand (a NodeFeatureRule),
// naming it; again there is nothing to uninstall.
func assertGPUUninstalls(t *testing.T, c *testbed.Cluster, ns string, slicing func(args ...string) result) {
	t.Helper()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	dry := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "--dry-run", "-o", "json")
	if got := actionsByKind(t, dry); dry.code != 0 || got[helm.ResultKind] != output.Deleted || got["ConfigMap"] != output.Deleted {
		t.Fatalf("gpu uninstall --dry-run: exit %d, %v", dry.code, got)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, gpucomp.DefaultConfigName, metav1.GetOptions{}); err != nil || helmReleases(t, c, ns) == 0 {
		t.Fatalf("the dry run deleted the ConfigMap (%v) or the release", err)
	}
	// The device plugin pointed at another ConfigMap: uninstall deletes both the plugin wrote.
	if r := slicing("--release-namespace", ns, "--replicas", "2", "--config-name", "tenant-slicing"); r.code != 0 {
		t.Fatalf("slicing --config-name tenant-slicing: exit %d", r.code)
	}
	rules := dyn.Resource(schema.GroupVersionResource{Group: "nfd.k8s-sigs.io", Version: "v1alpha1", Resource: "nodefeaturerules"})
	rule := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "nfd.k8s-sigs.io/v1alpha1", "kind": "NodeFeatureRule",
		"metadata": map[string]any{"name": "made-by-hand"},
		"spec":     map[string]any{"rules": []any{map[string]any{"name": "made-by-hand", "labels": map[string]any{"example.com/gpu": "yes"}}}}}}
	if _, err := rules.Create(ctx, rule, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "-o", "json")
	if got := actionsByKind(t, r); r.code != 0 || got[helm.ResultKind] != output.Deleted || got["ConfigMap"] != output.Deleted {
		t.Fatalf("gpu uninstall: exit %d, %v\n%s", r.code, got, r.stderr)
	}
	if n := helmReleases(t, c, ns); n != 0 {
		t.Errorf("%d helm release records left", n)
	}
	for _, name := range []string{gpucomp.DefaultConfigName, "tenant-slicing"} {
		if _, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("time-slicing ConfigMap %s still there (%v)", name, err)
		}
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Get(ctx, "clusterpolicies.nvidia.com", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the chart's CRD clusterpolicies.nvidia.com, holding nothing, is still there: %v", err)
	}
	if _, err := crds.Get(ctx, "nodefeaturerules.nfd.k8s-sigs.io", metav1.GetOptions{}); err != nil {
		t.Errorf("the CRD holding a NodeFeatureRule made by hand was deleted: %v", err)
	}
	var kept bool
	for _, x := range kfReport(t, r).Results {
		if x.Kind == "CustomResourceDefinition" && x.Name == "nodefeaturerules.nfd.k8s-sigs.io" && x.Action == output.Kept && strings.Contains(x.Detail, "1 custom resource") {
			kept = true
		}
	}
	if !kept {
		t.Errorf("the report does not say the NodeFeatureRule CRD was kept for its custom resource:\n%s", r.stdout)
	}
	again := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "-o", "json")
	if rep := kfReport(t, again); again.code != 0 || rep.Changed() || !strings.Contains(strings.Join(rep.Notes, " "), "nothing to uninstall") {
		t.Fatalf("gpu uninstall after uninstall: exit %d, %v", again.code, rep)
	}
}
