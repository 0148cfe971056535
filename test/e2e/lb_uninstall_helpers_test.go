package e2e

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertLBUninstalls proves `lb uninstall` on a converged bed: a dry run reports the pool, the
// L2Advertisement and the release and deletes nothing; the real one deletes them (the release
// through helm: no release record, no controller left, and MetalLB's CRDs, which its chart
// templates, gone as with helm uninstall), then the namespace it made for the release, empty by
// then; again there is nothing to uninstall.
func assertLBUninstalls(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	pools := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace)
	dry := runPlugin(t, c, "lb", "uninstall", "--dry-run", "-o", "json")
	if got := actionsByKind(t, dry); dry.code != 0 || got["IPAddressPool"] != output.Deleted || got["L2Advertisement"] != output.Deleted || got[helm.ResultKind] != output.Deleted || got["Namespace"] != output.Deleted {
		t.Fatalf("lb uninstall --dry-run: exit %d, %v", dry.code, got)
	}
	if _, err := pools.Get(ctx, lb.DefaultPool, metav1.GetOptions{}); err != nil || helmReleases(t, c, lb.DefaultNamespace) == 0 {
		t.Fatalf("the dry run deleted the pool (%v) or the release", err)
	}
	r := runPlugin(t, c, "lb", "uninstall", "-o", "json")
	if got := actionsByKind(t, r); r.code != 0 || got["IPAddressPool"] != output.Deleted || got[helm.ResultKind] != output.Deleted {
		t.Fatalf("lb uninstall: exit %d, %v\n%s", r.code, got, r.stderr)
	}
	if _, err := pools.Get(ctx, lb.DefaultPool, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("pool still there (%v)", err)
	}
	if n := helmReleases(t, c, lb.DefaultNamespace); n != 0 {
		t.Errorf("%d helm release records left", n)
	}
	if deps, err := c.Client.AppsV1().Deployments(lb.DefaultNamespace).List(ctx, metav1.ListOptions{}); err != nil || len(deps.Items) != 0 {
		t.Errorf("MetalLB Deployments left: %d (%v)", len(deps.Items), err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if _, err := crds.Get(ctx, "ipaddresspools.metallb.io", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("MetalLB's CRDs (objects of its release, as helm uninstall deletes them) are still there: %v", err)
	}
	if got := actionsByKind(t, r); got["Namespace"] != output.Deleted {
		t.Errorf("namespace %s (made for the release, empty once it is gone): %q, want deleted", lb.DefaultNamespace, got["Namespace"])
	}
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, lb.DefaultNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("namespace %s still there after the uninstall waited (%v)", lb.DefaultNamespace, err)
	}
	if !strings.Contains(strings.Join(kfReport(t, r).Notes, " "), "helm's uninstall deletes them") {
		t.Errorf("the report does not say the CRDs went with the release: %v", kfReport(t, r).Notes)
	}
	again := runPlugin(t, c, "lb", "uninstall", "-o", "json")
	if rep := kfReport(t, again); again.code != 0 || len(rep.Results) != 0 || !strings.Contains(strings.Join(rep.Notes, " "), "nothing to uninstall") {
		t.Fatalf("lb uninstall after uninstall: exit %d, %v", again.code, rep)
	}
}
