package e2e

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertPlatformDeletes proves `delete -f` on the converged demo platform, as the identity bound
// to the role `kubectl flexigrobots rbac` prints (installer), as it was installed: a dry run deletes
// nothing; the real run takes every section down but keeps Kubeflow's claims (bound, with their
// namespace and an object made there by hand) and the storage release serving them; with
// --delete-data only the objects of the snapshot taken before `apply -f` are left (PVCs and PVs
// gone too), and of the ClusterRoles, bindings, CRDs, namespaces and webhook configurations the very
// same objects (see beforeInstall); a third run is unchanged everywhere and changes nothing.
func assertPlatformDeletes(t *testing.T, c *testbed.Cluster, installer, file string, pristine map[string]string) {
	t.Helper()
	ctx := context.Background()
	before := platformState(t, c)
	leftAlone := beforeInstall(t, pristine, clusterObjects(t, c))
	dry := runPlugin(t, c, "delete", "-f", file, "--dry-run=server", "-o", "json")
	if dry.code != 0 {
		t.Fatalf("delete --dry-run=server: exit %d\n%s", dry.code, dry.stderr)
	}
	wantResults(t, summaryOf(t, dry), map[string]string{"storage": "unchanged", "lb": "deleted", "kubeflow": "deleted", "tls": "deleted", "profiles": "deleted", "gpu": "deleted"})
	sameState(t, before, platformState(t, c))

	hand := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "made-by-hand", Namespace: "kubeflow"}, Data: map[string]string{"a": "b"}}
	if _, err := c.Client.CoreV1().ConfigMaps("kubeflow").Create(ctx, hand, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := runPluginAs(t, installer, "delete", "-f", file, "-o", "json")
	if r.code != 0 {
		t.Fatalf("delete -f: exit %d\n%s", r.code, r.stderr)
	}
	sum := summaryOf(t, r)
	wantResults(t, sum, map[string]string{"storage": "unchanged", "lb": "deleted", "kubeflow": "deleted", "tls": "deleted", "profiles": "deleted", "gpu": "deleted"})
	if notes := strings.Join(sum["storage"].Report.Notes, " "); !strings.Contains(notes, "kept: the provisioner release") || !strings.Contains(notes, "--delete-data") {
		t.Errorf("storage's notes do not say the release was kept for the claims: %s", notes)
	}
	// What still runs keeps its block for `export --platform`: the storage release kept for the claims.
	if rec, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, section.PlatformRecord, metav1.GetOptions{}); err != nil || len(rec.Data) != 1 || rec.Data["storage"] == "" {
		t.Errorf("after delete -f keeping data, the platform record should hold the storage block alone: %v %v", err, rec)
	}
	claims := claimNamespaces(t, c)
	if !claims["kubeflow"] {
		t.Fatal("Kubeflow's claims were deleted without --delete-data")
	}
	if _, err := c.Client.CoreV1().ConfigMaps("kubeflow").Get(ctx, hand.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the ConfigMap made by hand in the kept namespace kubeflow is gone: %v", err)
	}
	if _, err := c.Client.StorageV1().StorageClasses().Get(ctx, storage.DefaultClass, metav1.GetOptions{}); err != nil {
		t.Errorf("StorageClass %s went while claims of it are kept: %v", storage.DefaultClass, err)
	}
	for k := range platformState(t, c) {
		if _, ok := pristine[k]; ok || testIdentity(k) {
			continue
		}
		parts := strings.SplitN(k, "/", 3) // resource/namespace/name
		kept := claims[parts[1]] || parts[1] == storage.DefaultNamespace || (parts[0] == "namespaces" && (claims[parts[2]] || parts[2] == storage.DefaultNamespace)) ||
			k == "configmaps/kube-system/flexigrobots-applied-kubeflow" || // the record, narrowed to the kept claims
			k == "configmaps/kube-system/"+section.PlatformRecord || // the storage block, for the kept release
			parts[0] == "storageclasses" || strings.Contains(parts[2], "nfs-subdir-external-provisioner") // the kept storage release's cluster objects
		if !kept {
			t.Errorf("left after delete -f (keeping data), and neither data nor the storage serving it: %s", k)
		}
	}

	r = runPluginAs(t, installer, "delete", "-f", file, "--delete-data", "-o", "json")
	if r.code != 0 {
		t.Fatalf("delete -f --delete-data: exit %d\n%s", r.code, r.stderr)
	}
	wantResults(t, summaryOf(t, r), map[string]string{"storage": "deleted", "lb": "unchanged", "kubeflow": "deleted", "tls": "unchanged", "profiles": "unchanged", "gpu": "unchanged"})
	if !regexp.MustCompile(`deleting namespaces [^\n]*\bkubeflow\b`).MatchString(r.stderr) {
		t.Errorf("the kubeflow namespace (with the object made by hand) was not named before it went:\n%s", r.stderr)
	}
	assertLeftAsFound(t, leftAlone, settledClusterObjects(t, c))
	sameObjects(t, pristine, platformState(t, c))
	if left := claimNamespaces(t, c); len(left) > 0 {
		t.Errorf("claims left after --delete-data, in namespaces %v", left)
	}
	pvs, err := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil || len(pvs.Items) != 0 {
		t.Errorf("volumes left after --delete-data (the provisioner went before reclaiming them?): %d %v", len(pvs.Items), err)
	}

	end := platformState(t, c)
	again := runPlugin(t, c, "delete", "-f", file, "--delete-data", "-o", "json")
	if again.code != 0 {
		t.Fatalf("delete -f again: exit %d\n%s", again.code, again.stderr)
	}
	wantResults(t, summaryOf(t, again), map[string]string{"storage": "unchanged", "lb": "unchanged", "kubeflow": "unchanged", "tls": "unchanged", "profiles": "unchanged", "gpu": "unchanged"})
	sameState(t, end, platformState(t, c))
}

// beforeInstall is what of leftAsFoundKinds was there before `apply -f`, by uid: the objects
// named in pristine (taken then, names only), with their uids in installed (taken after it; one
// not there then is not from before); the webhook configurations (pristine lacks them) created
// before the install began, i.e. before the first object of the other kinds not in pristine; and
// the identities the test made after pristine (see testIdentity).
func beforeInstall(t *testing.T, pristine map[string]string, installed map[string]clusterObject) map[string]types.UID {
	t.Helper()
	var since time.Time
	for k, o := range installed {
		if _, ok := pristine[k]; !ok && !webhookKey(k) && !testIdentity(k) && (since.IsZero() || o.created.Before(since)) {
			since = o.created
		}
	}
	if since.IsZero() {
		t.Fatal("no object of the platform among the ClusterRoles, bindings, CRDs and namespaces: is it installed?")
	}
	before := map[string]types.UID{}
	for k, o := range installed {
		_, wasThere := pristine[k]
		if wasThere || testIdentity(k) || (webhookKey(k) && !o.created.After(since)) {
			before[k] = o.uid
		}
	}
	return before
}

func webhookKey(k string) bool {
	return strings.HasPrefix(k, "mutatingwebhookconfigurations/") || strings.HasPrefix(k, "validatingwebhookconfigurations/")
}

// testIdentity tells whether a platformState key is one of the identities the platform test made
// after its snapshot (the verifier and the viewer: their ServiceAccounts, roles and bindings).
func testIdentity(k string) bool {
	return strings.Contains(k, "/platform-verifier") || strings.Contains(k, "/ci-viewer")
}

// claimNamespaces is the set of namespaces holding PersistentVolumeClaims (Kubeflow's stores:
// kubeflow, and on v1.5 istio-system for authservice's).
func claimNamespaces(t *testing.T, c *testbed.Cluster) map[string]bool {
	t.Helper()
	list, err := c.Client.CoreV1().PersistentVolumeClaims("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range list.Items {
		out[p.Namespace] = true
	}
	return out
}

// sameObjects fails with the objects that appeared or disappeared (resourceVersions may move: the
// cluster's own objects, such as the aggregated ClusterRoles, are rewritten when what they
// aggregate goes).
func sameObjects(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diff []string
	for k := range before {
		if _, ok := after[k]; !ok {
			diff = append(diff, "deleted "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !testIdentity(k) {
			diff = append(diff, "left "+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("%d objects differ from the snapshot taken before apply -f:\n  %s", len(diff), strings.Join(diff, "\n  "))
	}
}
