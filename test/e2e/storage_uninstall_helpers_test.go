package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertStorageUninstallRefused proves `storage uninstall` refuses (exit 2, the claims named,
// nothing changed) while claims of its StorageClass are bound; want is one claim it must name.
func assertStorageUninstallRefused(t *testing.T, c *testbed.Cluster, want string) {
	t.Helper()
	before := helmReleases(t, c, storage.DefaultNamespace)
	r := runPlugin(t, c, "storage", "uninstall")
	if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "--force") || !strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("storage uninstall with bound claims: want exit 2 naming %s and --force, got %d\n%s", want, r.code, r.stderr)
	}
	if _, err := c.Client.StorageV1().StorageClasses().Get(context.Background(), storage.DefaultClass, metav1.GetOptions{}); err != nil || helmReleases(t, c, storage.DefaultNamespace) != before {
		t.Fatalf("the refused uninstall changed something (class: %v)", err)
	}
}

// assertStorageUninstalls proves, on a bed with the provisioner installed: a bound claim of its
// class refuses the uninstall; --dry-run --force deletes nothing; --force uninstalls the release
// (its StorageClass with it) and keeps the claim; again there is nothing to uninstall.
func assertStorageUninstalls(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx := context.Background()
	class := storage.DefaultClass
	claim := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "user-data", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}},
		},
	}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims("default").Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := c.Client.CoreV1().PersistentVolumeClaims("default").Get(ctx, claim.Name, metav1.GetOptions{})
		if err == nil && got.Status.Phase == corev1.ClaimBound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim not bound by the provisioner stand-in: %v %v", got.Status.Phase, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	assertStorageUninstallRefused(t, c, "default/user-data")

	dry := runPlugin(t, c, "storage", "uninstall", "--force", "--dry-run", "-o", "json")
	if res := kfReport(t, dry).Results; dry.code != 0 || len(res) == 0 || res[0].Kind != helm.ResultKind || res[0].Action != output.Deleted || res[0].DryRun == "" {
		t.Fatalf("uninstall --force --dry-run: exit %d, %v", dry.code, res)
	}
	if helmReleases(t, c, storage.DefaultNamespace) == 0 {
		t.Fatal("the dry run uninstalled the release")
	}
	r := runPlugin(t, c, "storage", "uninstall", "--force", "-o", "json")
	if got := actionsByKind(t, r); r.code != 0 || got[helm.ResultKind] != output.Deleted || got["Namespace"] != output.Deleted {
		t.Fatalf("uninstall --force: exit %d, want the release and its namespace (made for it, now empty) deleted: %v\n%s", r.code, got, r.stderr)
	}
	if ns, err := c.Client.CoreV1().Namespaces().Get(ctx, storage.DefaultNamespace, metav1.GetOptions{}); err == nil && ns.DeletionTimestamp == nil {
		t.Errorf("namespace %s is still there", storage.DefaultNamespace)
	}
	if n := helmReleases(t, c, storage.DefaultNamespace); n != 0 {
		t.Errorf("%d release records left", n)
	}
	if _, err := c.Client.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("StorageClass %s still there (%v)", class, err)
	}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims("default").Get(ctx, claim.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the user's claim was deleted: %v", err)
	}
	if notes := strings.Join(kfReport(t, r).Notes, " "); !strings.Contains(notes, "default/user-data") || !strings.Contains(notes, "never touched") {
		t.Errorf("the report does not say what stays: %s", notes)
	}
	again := runPlugin(t, c, "storage", "uninstall", "-o", "json")
	if rep := kfReport(t, again); again.code != 0 || len(rep.Results) != 0 || !strings.Contains(strings.Join(rep.Notes, " "), "nothing to uninstall") {
		t.Fatalf("uninstall after uninstall: exit %d, %v", again.code, rep)
	}
}
