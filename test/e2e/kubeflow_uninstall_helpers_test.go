package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertKubeflowUninstalls proves `kubeflow uninstall` on a converged bed: a server dry run
// deletes nothing; the real one deletes every member but the stores' PVCs and their namespace,
// names the namespaces it deletes first, leaves objects made by hand outside them, and keeps its
// record of what it kept; again it deletes nothing; --delete-data takes the rest (no
// ClusterRoles, ClusterRoleBindings, CRDs, namespaces and webhook configurations are by name and
// uid those of pristine, the snapshot taken before the install, but for the namespace this
// helper makes by hand), and after that there is nothing to uninstall.
func assertKubeflowUninstalls(t *testing.T, c *testbed.Cluster, pristine map[string]clusterObject) {
	t.Helper()
	ctx := context.Background()
	id := kube.ApplySetID("kubeflow")
	member := metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=" + id}
	pvcs, err := c.Client.CoreV1().PersistentVolumeClaims("").List(ctx, member)
	if err != nil || len(pvcs.Items) == 0 {
		t.Fatalf("no PersistentVolumeClaim in the kubeflow set (%v)", err)
	}
	dataNamespaces := map[string]bool{}
	for _, p := range pvcs.Items {
		dataNamespaces[p.Namespace] = true
	}
	// Made by hand: one in a namespace of the build that keeps its data, one namespace of its own.
	handmade := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "made-by-hand", Namespace: pvcs.Items[0].Namespace}}
	if _, err := c.Client.CoreV1().ConfigMaps(handmade.Namespace).Create(ctx, handmade, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "made-by-hand"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// What was there before the install must stay the very object it was; only the namespace
	// made by hand above may be there besides.
	leftAlone := map[string]types.UID{}
	for k, o := range pristine {
		leftAlone[k] = o.uid
	}
	if o, ok := clusterObjects(t, c)["namespaces//made-by-hand"]; ok {
		leftAlone["namespaces//made-by-hand"] = o.uid
	}

	before := namespaceNames(t, c)
	dry := runPlugin(t, c, "kubeflow", "uninstall", "--dry-run=server", "-o", "json")
	if dry.code != 0 || len(kfReport(t, dry).Results) < 100 || !strings.Contains(dry.stderr, "would delete namespaces") {
		t.Fatalf("uninstall --dry-run=server: exit %d, %d results\n%s", dry.code, len(kfReport(t, dry).Results), dry.stderr)
	}
	if after := namespaceNames(t, c); !slices.Equal(before, after) {
		t.Fatalf("the dry run deleted namespaces: %v -> %v", before, after)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{}); err != nil {
		t.Fatalf("the dry run deleted the apply record: %v", err)
	}

	r := runPlugin(t, c, "kubeflow", "uninstall", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "deleting namespaces") {
		t.Fatalf("uninstall: exit %d\n%s", r.code, r.stderr)
	}
	var kept []string
	for _, x := range kfReport(t, r).Results {
		switch x.Action {
		case output.Deleted:
		case kube.Kept:
			kept = append(kept, x.Kind+"/"+x.Namespace+"/"+x.Name)
		default:
			t.Errorf("uninstall: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	if len(kept) != len(pvcs.Items)+len(dataNamespaces) {
		t.Fatalf("kept %v: want the %d PVCs and their namespaces %v", kept, len(pvcs.Items), dataNamespaces)
	}
	left := map[string]func() (int, error){
		"Deployments": func() (int, error) {
			l, err := c.Client.AppsV1().Deployments("").List(ctx, member)
			return len(l.Items), err
		},
		"Services": func() (int, error) {
			l, err := c.Client.CoreV1().Services("").List(ctx, member)
			return len(l.Items), err
		},
		"ConfigMaps": func() (int, error) {
			l, err := c.Client.CoreV1().ConfigMaps("").List(ctx, member)
			return len(l.Items), err
		},
		"Secrets": func() (int, error) {
			l, err := c.Client.CoreV1().Secrets("").List(ctx, member)
			return len(l.Items), err
		},
		"ClusterRoles": func() (int, error) {
			l, err := c.Client.RbacV1().ClusterRoles().List(ctx, member)
			return len(l.Items), err
		},
	}
	for kind, count := range left {
		if n, err := count(); err != nil || n != 0 {
			t.Errorf("%d %s of the set left (%v)", n, kind, err)
		}
	}
	for _, ns := range namespaceNames(t, c) {
		if !slices.Contains(before, ns) {
			t.Errorf("namespace %s appeared", ns)
		}
	}
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, "made-by-hand", metav1.GetOptions{}); err != nil {
		t.Errorf("a namespace made by hand was deleted: %v", err)
	}
	if _, err := c.Client.CoreV1().ConfigMaps(handmade.Namespace).Get(ctx, handmade.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("a ConfigMap made by hand in a kept namespace was deleted: %v", err)
	}

	again := runPlugin(t, c, "kubeflow", "uninstall", "-o", "json")
	for _, x := range kfReport(t, again).Results {
		if x.Action != kube.Kept {
			t.Errorf("second uninstall: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	data := runPlugin(t, c, "kubeflow", "uninstall", "--delete-data", "-o", "json")
	if data.code != 0 || len(kfReport(t, data).Results) != len(kept) {
		t.Fatalf("uninstall --delete-data: exit %d, %d results (want the %d kept)\n%s", data.code, len(kfReport(t, data).Results), len(kept), data.stderr)
	}
	for ns := range dataNamespaces {
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("namespace %s still there after --delete-data (%v)", ns, err)
		}
	}
	assertLeftAsFound(t, leftAlone, settledClusterObjects(t, c))
	last := runPlugin(t, c, "kubeflow", "uninstall", "-o", "json")
	if rep := kfReport(t, last); last.code != 0 || len(rep.Results) != 0 || !strings.Contains(strings.Join(rep.Notes, " "), "nothing to uninstall") {
		t.Fatalf("uninstall after uninstall: exit %d, %v", last.code, rep)
	}
}
