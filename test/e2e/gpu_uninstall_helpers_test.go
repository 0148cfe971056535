package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertGPUUninstalls proves `gpu uninstall` on a bed with the operator and time-slicing: a dry
// run reports the release and the ConfigMap and deletes nothing; the real one deletes both (the
// release through helm: no release record left) and keeps the chart's CRDs, as helm does; again
// there is nothing to uninstall.
func assertGPUUninstalls(t *testing.T, c *testbed.Cluster, ns string) {
	t.Helper()
	ctx := context.Background()
	dry := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "--dry-run", "-o", "json")
	if got := actionsByKind(t, dry); dry.code != 0 || got[helm.ResultKind] != output.Deleted || got["ConfigMap"] != output.Deleted {
		t.Fatalf("gpu uninstall --dry-run: exit %d, %v", dry.code, got)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, gpucomp.DefaultConfigName, metav1.GetOptions{}); err != nil || helmReleases(t, c, ns) == 0 {
		t.Fatalf("the dry run deleted the ConfigMap (%v) or the release", err)
	}
	r := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "-o", "json")
	if got := actionsByKind(t, r); r.code != 0 || got[helm.ResultKind] != output.Deleted || got["ConfigMap"] != output.Deleted {
		t.Fatalf("gpu uninstall: exit %d, %v\n%s", r.code, got, r.stderr)
	}
	if n := helmReleases(t, c, ns); n != 0 {
		t.Errorf("%d helm release records left", n)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, gpucomp.DefaultConfigName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("time-slicing ConfigMap still there (%v)", err)
	}
	crds := dynamic.NewForConfigOrDie(c.Config).Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Get(ctx, "clusterpolicies.nvidia.com", metav1.GetOptions{}); err != nil {
		t.Errorf("the chart's CRDs were deleted (helm keeps a chart's crds/): %v", err)
	}
	again := runPlugin(t, c, "gpu", "uninstall", "--release-namespace", ns, "-o", "json")
	if rep := kfReport(t, again); again.code != 0 || len(rep.Results) != 0 || !strings.Contains(strings.Join(rep.Notes, " "), "nothing to uninstall") {
		t.Fatalf("gpu uninstall after uninstall: exit %d, %v", again.code, rep)
	}
}
