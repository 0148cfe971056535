package kube_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// aggregatedRoles is a set of n chains: an aggregating ClusterRole <prefix>-i-d-top that collects
// an aggregating middle role <prefix>-i-c-mid (itself collecting leaf a) and leaf b, the
// shape of a platform's admin/edit/view roles. It also holds a ConfigMap, so that a prune of
// the roles leaves a set. It returns the manifests and the names of the roles.
func aggregatedRoles(prefix string, n int) (string, []string) {
	var b strings.Builder
	var names []string
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s-keep, namespace: default}\n", prefix)
	for i := range n {
		// Named so that a deletion in name order deletes each role just after its sources.
		agg, mid := fmt.Sprintf("%s-%02d-d-top", prefix, i), fmt.Sprintf("%s-%02d-c-mid", prefix, i)
		leafA, leafB := fmt.Sprintf("%s-%02d-a-leaf", prefix, i), fmt.Sprintf("%s-%02d-b-leaf", prefix, i)
		fmt.Fprintf(&b, `---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %[1]s}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {aggregate.example.flexigrobots.io/to: %[1]s}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %[2]s
  labels: {aggregate.example.flexigrobots.io/to: %[1]s}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {aggregate.example.flexigrobots.io/to: %[2]s}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %[3]s
  labels: {aggregate.example.flexigrobots.io/to: %[2]s}
rules:
- {apiGroups: [""], resources: [configmaps], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %[4]s
  labels: {aggregate.example.flexigrobots.io/to: %[1]s}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get]}
`, agg, mid, leafA, leafB)
		names = append(names, agg, mid, leafA, leafB)
	}
	return b.String(), names
}

// TestAggregatedClusterRolesStayGone: an uninstall, and a prune, of aggregating ClusterRoles
// with the roles they aggregate leaves none of them behind for 10 s, although the
// controller-manager's aggregation controller writes the aggregating roles' rules (with a
// server-side apply, which creates an object that is gone) while their sources are being
// deleted, and may create ClusterRoles here (letAggregatorCreate). Before the deletion held the
// aggregating roles back, most top roles came back within a second.
func TestAggregatedClusterRolesStayGone(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{}) // a full bed: the aggregation controller runs
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl := clientsFor(t, c)
	roles := c.Client.RbacV1().ClusterRoles()
	letAggregatorCreate(ctx, t, c)
	// applied applies the set and waits until the controller has aggregated every chain's rules
	// into its top role (so the deletion below races a controller that has caught up).
	applied := func(t *testing.T, section, manifests string, names []string) {
		if _, err := (&kube.Applier{Clients: cl, Section: section, ApplySet: true}).Apply(ctx, decode(t, manifests)); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if !strings.HasSuffix(n, "-top") {
				continue
			}
			for {
				r, err := roles.Get(ctx, n, metav1.GetOptions{})
				if err == nil && len(r.Rules) == 2 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("%s never aggregated its two leaves' rules: %v %v", n, r, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	// stayGone checks, for 10 s, that no role of names exists.
	stayGone := func(t *testing.T, names []string) {
		t.Helper()
		seen := map[string]*rbacv1.ClusterRole{}
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			for _, n := range names {
				r, err := roles.Get(ctx, n, metav1.GetOptions{})
				if err == nil && seen[n] == nil {
					seen[n] = r
				} else if err != nil && !apierrors.IsNotFound(err) {
					t.Fatal(err)
				}
			}
		}
		for n, r := range seen {
			var managers []string
			for _, m := range r.ManagedFields {
				managers = append(managers, m.Manager+"/"+string(m.Operation))
			}
			t.Errorf("ClusterRole %s exists after the deletion (uid %s, created %s, managers %v)", n, r.UID, r.CreationTimestamp, managers)
		}
	}
	uninstall := func(t *testing.T, prefix string, lag time.Duration) {
		manifests, names := aggregatedRoles(prefix, 10)
		applied(t, "aggrole-"+prefix, manifests, names)
		var log bytes.Buffer
		a := &kube.Applier{Clients: cl, Section: "aggrole-" + prefix, Progress: output.NewProgress(&log)}
		caughtUp := lagBehind(t, c, lag)
		res, err := a.Uninstall(ctx, kube.Uninstall{Wait: true})
		caughtUp()
		if err != nil {
			t.Fatalf("uninstall: %v\n%s", err, log.String())
		}
		if deleted := countAction(res, output.Deleted); deleted != len(names)+1 {
			t.Errorf("uninstall deleted %d objects, want the %d roles and the ConfigMap", deleted, len(names))
		}
		t.Logf("uninstall output:\n%s", log.String())
		stayGone(t, names)
	}
	t.Run("uninstall", func(t *testing.T) { uninstall(t, "un", 0) })
	// The controller-manager stopped for a while: the aggregating roles wait for it (bounded).
	t.Run("uninstall, controller lagging", func(t *testing.T) { uninstall(t, "lag", controllerLag) })
	t.Run("prune", func(t *testing.T) {
		manifests, names := aggregatedRoles("pr", 10)
		applied(t, "aggrole-pr", manifests, names)
		var log bytes.Buffer
		keep := strings.SplitN(manifests, "---\n", 2)[0] // the ConfigMap only
		rep, err := (&kube.Applier{Clients: cl, Section: "aggrole-pr", ApplySet: true, Progress: output.NewProgress(&log)}).Apply(ctx, decode(t, keep))
		if err != nil {
			t.Fatalf("prune: %v\n%s", err, log.String())
		}
		if pruned := countAction(rep.Results, kube.Pruned); pruned != len(names) {
			t.Errorf("pruned %d objects, want the %d roles", pruned, len(names))
		}
		t.Logf("prune output:\n%s", log.String())
		stayGone(t, names)
	})
}

// letAggregatorCreate lets the aggregation controller create ClusterRoles. Kubernetes' own
// RBAC does not (its apply of a deleted role fails: "cannot create resource clusterroles"), but a
// controller-manager that runs with wider credentials than its controllers' ServiceAccounts does,
// and there a deleted aggregating role comes back.
func letAggregatorCreate(ctx context.Context, t *testing.T, c *testbed.Cluster) {
	t.Helper()
	const name = "test-aggregation-controller-creates"
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "kube-system", Name: "clusterrole-aggregation-controller"}}}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// controllerLag is how far behind the cluster the tests let the controller-manager fall: on a
// loaded cluster it sees a deletion late, and the aggregation controller works from a cache
// that still holds roles the API server has deleted.
const controllerLag = 3 * time.Second

// lagBehind stops kube-controller-manager (SIGSTOP) and lets it go on (SIGCONT) after d; the
// returned func waits for that. The process keeps its watches: once going on, it sees every
// change made meanwhile, in order, as a controller that lagged behind would.
func lagBehind(t *testing.T, c *testbed.Cluster, d time.Duration) (caughtUp func()) {
	t.Helper()
	if d == 0 {
		return func() {}
	}
	pid, ok := c.PIDs()["kube-controller-manager"]
	if !ok {
		t.Fatal("no kube-controller-manager on the test bed")
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(d)
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { <-done })
	return func() { <-done }
}

func countAction(results []output.Result, action string) int {
	n := 0
	for _, r := range results {
		if r.Action == action {
			n++
		}
	}
	return n
}
