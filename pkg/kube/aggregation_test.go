package kube

import (
	"context"
	"reflect"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

const toLabel = "aggregate.example.flexigrobots.io/to"

// role is a ClusterRole labelled to aggregate into each of into; with from set it aggregates
// the roles labelled with it.
func role(name, from string, rules []rbacv1.PolicyRule, into ...string) rbacv1.ClusterRole {
	r := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{}}, Rules: rules}
	for _, to := range into {
		r.Labels[toLabel+"-"+to] = "true"
	}
	if from != "" {
		r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{toLabel + "-" + from: "true"}}}}
	}
	return r
}

func rule(resource string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{resource}, Verbs: []string{"get"}}
}

// The platform shape: admin aggregates edit (and a leaf), edit aggregates view, view aggregates
// leaves; a role aggregating nothing of the deletion is still held back (level 1).
func TestAggregationLevels(t *testing.T) {
	roles := []rbacv1.ClusterRole{
		role("leaf-view", "", []rbacv1.PolicyRule{rule("pods")}, "view"),
		role("admin", "admin", nil),
		role("view", "view", nil, "edit"),
		role("edit", "edit", nil, "admin"),
		role("leaf-admin", "", []rbacv1.PolicyRule{rule("secrets")}, "admin"),
		role("lonely", "nobody", nil),
	}
	got := aggregationLevels(roles)
	want := map[string]int{"view": 1, "edit": 2, "admin": 3, "lonely": 1}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("levels %v, want %v", got, want)
	}
}

// Roles aggregating into each other (and into themselves) still get a level each: the cycle is
// cut, the role aggregating both comes after both.
func TestAggregationLevelsCycle(t *testing.T) {
	roles := []rbacv1.ClusterRole{
		role("a", "a", nil, "b", "a", "c"),
		role("b", "b", nil, "a", "c"),
		role("c", "c", nil),
	}
	got := aggregationLevels(roles)
	if len(got) != 3 || got["a"] < 1 || got["b"] < 1 || got["c"] <= max(got["a"], got["b"]) {
		t.Errorf("levels %v: want a and b at 1 or more, c after both", got)
	}
}

// What the aggregation controller writes: the other matching roles' rules, by name, each once;
// a role's own rules and an invalid selector count for nothing.
func TestAggregatedRules(t *testing.T) {
	top := role("top", "top", []rbacv1.PolicyRule{rule("stale")}, "top")
	top.AggregationRule.ClusterRoleSelectors = append(top.AggregationRule.ClusterRoleSelectors,
		metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Bogus"}}})
	all := []rbacv1.ClusterRole{
		top,
		role("b", "", []rbacv1.PolicyRule{rule("secrets"), rule("pods")}, "top"),
		role("a", "", []rbacv1.PolicyRule{rule("pods")}, "top"),
		role("other", "", []rbacv1.PolicyRule{rule("nodes")}, "elsewhere"),
	}
	got := aggregatedRules(&all[0], all)
	want := []rbacv1.PolicyRule{rule("pods"), rule("secrets")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("aggregated %v, want %v", got, want)
	}
	if !equalRules(got, []rbacv1.PolicyRule{rule("secrets"), rule("pods")}) || equalRules(got, []rbacv1.PolicyRule{rule("pods")}) {
		t.Error("equalRules must ignore order and nothing else")
	}
}

// aggregationPending names the deleted roles still there (same UID: a role of that name with
// another UID is not the one deleted) and the tracked roles the controller has not updated yet.
func TestAggregationPending(t *testing.T) {
	all := []rbacv1.ClusterRole{
		role("top", "top", []rbacv1.PolicyRule{rule("stale")}),
		role("fresh", "fresh", []rbacv1.PolicyRule{rule("pods")}),
		role("leaf", "", []rbacv1.PolicyRule{rule("pods")}, "fresh"),
		role("left", "", nil),
		role("replaced", "", nil),
	}
	all[4].UID = "another"
	gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	var gone []prunable
	for _, n := range []string{"left", "replaced", "deleted"} {
		gone = append(gone, prunable{kind: "ClusterRole", gvr: gvr, name: n, uid: types.UID("uid-" + n)})
	}
	there, stale := aggregationPending(all, gone, []string{"top", "fresh", "deleted-top"})
	if !reflect.DeepEqual(there, []string{"left"}) || !reflect.DeepEqual(stale, []string{"top"}) {
		t.Errorf("there %v, stale %v: want [left] and [top]", there, stale)
	}
	all[0].Rules = nil
	if there, stale := aggregationPending(all, nil, []string{"top", "fresh"}); there != nil || stale != nil {
		t.Errorf("there %v, stale %v: want nothing pending", there, stale)
	}
	if got := listSome([]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}); got != "a, b, c, d, e, f, g, h and 2 more" {
		t.Errorf("listSome: %q", got)
	}
}

// holdAggregating keeps the rest in order, holds the aggregating ClusterRoles back by level and
// tracks those whose rules the controller keeps.
func TestHoldAggregating(t *testing.T) {
	leaf := role("leaf", "", []rbacv1.PolicyRule{rule("pods")}, "mid")
	mid := role("mid", "mid", []rbacv1.PolicyRule{rule("pods")}, "top")
	top := role("top", "top", nil) // never aggregated: no controller, or not caught up
	cs := fake.NewClientset(&leaf, &mid, &top)
	a := &Applier{Clients: &Clients{Client: cs}}
	gvr := schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	p := func(r rbacv1.ClusterRole) prunable {
		return prunable{ref: "ClusterRole/" + r.Name, kind: "ClusterRole", gvr: gvr, name: r.Name, uid: r.UID}
	}
	cm := prunable{ref: "ConfigMap/x/y", kind: "ConfigMap", gvr: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, namespace: "x", name: "y", uid: "uid-cm"}
	rest, g := a.holdAggregating(context.Background(), []prunable{p(top), cm, p(leaf), p(mid)})
	if !reflect.DeepEqual(rest, []prunable{cm, p(leaf)}) {
		t.Errorf("rest %v, want the ConfigMap and the leaf", rest)
	}
	if len(g.levels) != 2 || len(g.levels[0]) != 1 || g.levels[0][0].name != "mid" || len(g.levels[1]) != 1 || g.levels[1][0].name != "top" || g.count() != 2 {
		t.Errorf("levels %v, want [[mid] [top]]", g.levels)
	}
	if !reflect.DeepEqual(g.tracked, map[string]bool{"mid": true}) {
		t.Errorf("tracked %v, want mid only", g.tracked)
	}
	// Nothing held back without a ClusterRole, and without a read.
	cs.ClearActions()
	if rest, g := a.holdAggregating(context.Background(), []prunable{cm}); len(rest) != 1 || g.count() != 0 || len(cs.Actions()) != 0 {
		t.Errorf("rest %v, held %d, %d requests: want the ConfigMap alone and no request", rest, g.count(), len(cs.Actions()))
	}
}

func TestDeletedOf(t *testing.T) {
	doomed := []prunable{{name: "a"}, {name: "b"}, {name: "c"}}
	got := deletedOf(doomed, []output.Result{{Action: output.Deleted}, {}, {Action: Pruned}})
	if len(got) != 2 || got[0].name != "a" || got[1].name != "c" {
		t.Errorf("deleted %v, want a and c (b was gone already)", got)
	}
	if deletedOf(doomed, nil) != nil {
		t.Error("results that do not line up with the objects must give nothing")
	}
}
