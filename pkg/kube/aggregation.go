package kube

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Aggregating ClusterRoles (those with an aggregationRule) get their rules from the
// controller-manager's aggregation controller, which writes them with a server-side apply from its
// cache. Deleted while the roles that aggregate into them are going too, such a role can be
// written by the controller just after it is gone, and that apply creates it again (rules only,
// no labels). A deletion therefore holds them back: a role goes only after every role of the same
// deletion that aggregates into it is gone and, where the controller keeps the role up to date,
// after the controller has caught up with their deletion.

// aggregationGrace bounds each wait of a deletion's aggregating ClusterRoles: for the roles that
// aggregate into them to be gone, then for the aggregation controller to catch up.
var aggregationGrace = 10 * time.Second

// aggregation is what a deletion holds back: its aggregating ClusterRoles by level (the first
// level aggregates no other aggregating role of the deletion), and the names of those whose rules
// the cluster's aggregation controller keeps (they matched their sources before the deletion).
type aggregation struct {
	levels  [][]prunable
	tracked map[string]bool
}

// count is the number of roles held back.
func (g aggregation) count() int {
	n := 0
	for _, l := range g.levels {
		n += len(l)
	}
	return n
}

func isClusterRole(p prunable) bool {
	return p.kind == "ClusterRole" && p.gvr.Group == "rbac.authorization.k8s.io"
}

// holdAggregating splits doomed into what is deleted as before and its aggregating ClusterRoles,
// which deleteAggregating deletes afterwards. When the ClusterRoles cannot be read it says so and
// holds nothing back.
func (a *Applier) holdAggregating(ctx context.Context, doomed []prunable) ([]prunable, aggregation) {
	if !slices.ContainsFunc(doomed, isClusterRole) {
		return doomed, aggregation{}
	}
	var list *rbacv1.ClusterRoleList
	err := Retry(ctx, func(ctx context.Context) error {
		var err error
		list, err = a.Client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		return err
	})
	if err != nil {
		a.Progress.Logf("warning: %scannot read the ClusterRoles (%v): aggregating ones are deleted with the others", a.prefix(), err)
		return doomed, aggregation{}
	}
	byUID := map[string]rbacv1.ClusterRole{}
	for _, r := range list.Items {
		byUID[string(r.UID)] = r
	}
	var roles []rbacv1.ClusterRole
	for _, p := range doomed {
		if r, ok := byUID[string(p.uid)]; ok && isClusterRole(p) {
			roles = append(roles, r)
		}
	}
	levels := aggregationLevels(roles)
	if len(levels) == 0 {
		return doomed, aggregation{}
	}
	g := aggregation{tracked: map[string]bool{}}
	var rest []prunable
	for _, p := range doomed {
		l, ok := levels[p.name]
		if !ok || !isClusterRole(p) {
			rest = append(rest, p)
			continue
		}
		for len(g.levels) < l {
			g.levels = append(g.levels, nil)
		}
		g.levels[l-1] = append(g.levels[l-1], p)
	}
	for _, r := range roles {
		if _, ok := levels[r.Name]; ok && equalRules(r.Rules, aggregatedRules(&r, list.Items)) {
			g.tracked[r.Name] = true
		}
	}
	return rest, g
}

// deleteAggregating deletes the held-back roles level by level, each level once the ClusterRoles
// deleted before it (before, then the earlier levels) are gone and the aggregation controller has
// written the level's tracked roles' rules without them (bounded by aggregationGrace; past it the
// deletion goes on, says so, and keepGone deals with what comes back). It returns the results
// and the roles it deleted.
func (a *Applier) deleteAggregating(ctx context.Context, g aggregation, before []prunable, as deletion) ([]output.Result, []prunable, error) {
	var results []output.Result
	var deleted []prunable
	pending := filterFunc(before, isClusterRole) // deleted, not yet seen gone
	for i, level := range g.levels {
		if !a.DryRun.Active() {
			a.awaitAggregation(ctx, pending, trackedIn(level, g.tracked))
		}
		for j := range level {
			level[j].order = i
		}
		res, err := a.deleteMembers(ctx, level, as)
		results = append(results, res...)
		if err != nil {
			return results, deleted, err
		}
		deleted = append(deleted, deletedOf(level, res)...)
		pending = deletedOf(level, res)
	}
	return results, deleted, nil
}

func trackedIn(level []prunable, tracked map[string]bool) []string {
	var names []string
	for _, p := range level {
		if tracked[p.name] {
			names = append(names, p.name)
		}
	}
	return names
}

// awaitAggregation polls the ClusterRoles (one LIST a round) until every role of gone is gone
// (or replaced) and every role named in updated holds the rules the aggregation controller would
// write now, for at most aggregationGrace; then it names what is missing and returns.
func (a *Applier) awaitAggregation(ctx context.Context, gone []prunable, updated []string) {
	if len(gone) == 0 && len(updated) == 0 {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, aggregationGrace)
	defer cancel()
	defer a.Progress.Done()
	var there, stale []string
	for {
		list, err := a.Client.RbacV1().ClusterRoles().List(wctx, metav1.ListOptions{})
		if err == nil {
			if there, stale = aggregationPending(list.Items, gone, updated); len(there)+len(stale) == 0 {
				return
			}
			var waits []string
			if len(there) > 0 {
				waits = append(waits, output.Count(len(there), "ClusterRole")+" to be gone")
			}
			if len(stale) > 0 {
				waits = append(waits, "the aggregation controller to update "+output.Count(len(stale), "ClusterRole"))
			}
			a.Progress.Update("%swaiting for %s", a.prefix(), strings.Join(waits, " and "))
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil || (there == nil && stale == nil) {
				return // interrupted (the deletion says so), or no answer to tell anything by
			}
			var missing []string
			if len(there) > 0 {
				missing = append(missing, "ClusterRoles still there: "+listSome(there))
			}
			if len(stale) > 0 {
				missing = append(missing, "not updated yet by the cluster's aggregation controller: "+listSome(stale))
			}
			a.Progress.Logf("warning: %safter %s, %s; deleting the aggregating ClusterRoles anyway", a.prefix(), aggregationGrace, strings.Join(missing, "; "))
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// aggregationPending returns, given all the ClusterRoles, the names of the roles of gone that are
// still there (same UID) and the roles named in updated that do not hold their aggregated rules.
func aggregationPending(all []rbacv1.ClusterRole, gone []prunable, updated []string) (there, stale []string) {
	byName := map[string]*rbacv1.ClusterRole{}
	for i := range all {
		byName[all[i].Name] = &all[i]
	}
	for _, p := range gone {
		if r, ok := byName[p.name]; ok && r.UID == p.uid {
			there = append(there, p.name)
		}
	}
	for _, n := range updated {
		if r, ok := byName[n]; ok && !equalRules(r.Rules, aggregatedRules(r, all)) {
			stale = append(stale, n)
		}
	}
	return there, stale
}

// listSome joins up to 8 names and counts the rest.
func listSome(names []string) string {
	if len(names) <= 8 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:8], ", "), len(names)-8)
}

// aggregationLevels gives each role of roles that has an aggregationRule its deletion level: 1 +
// the highest level of the other roles of roles that its selectors match (a role without an
// aggregationRule is level 0 and absent from the map). A cycle of roles aggregating into each
// other is cut where it closes.
func aggregationLevels(roles []rbacv1.ClusterRole) map[string]int {
	roles = slices.Clone(roles)
	sort.SliceStable(roles, func(i, j int) bool { return roles[i].Name < roles[j].Name })
	levels := map[string]int{}
	visiting := map[string]bool{}
	var level func(r *rbacv1.ClusterRole) int
	level = func(r *rbacv1.ClusterRole) int {
		if r.AggregationRule == nil {
			return 0
		}
		if l, ok := levels[r.Name]; ok {
			return l
		}
		if visiting[r.Name] {
			return 0 // a cycle: this edge is cut
		}
		visiting[r.Name] = true
		l := 1
		for i := range roles {
			if s := &roles[i]; s.Name != r.Name && aggregates(r.AggregationRule, s.Labels) {
				l = max(l, level(s)+1)
			}
		}
		visiting[r.Name] = false
		levels[r.Name] = l
		return l
	}
	for i := range roles {
		level(&roles[i])
	}
	return levels
}

// aggregates tells whether one of rule's selectors matches lbls (an invalid selector matches
// nothing, as for the controller).
func aggregates(rule *rbacv1.AggregationRule, lbls map[string]string) bool {
	for i := range rule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&rule.ClusterRoleSelectors[i])
		if err == nil && sel.Matches(labels.Set(lbls)) {
			return true
		}
	}
	return false
}

// aggregatedRules is what the aggregation controller writes into role's rules given all the
// ClusterRoles: the rules of every other role a selector matches, by selector then by name, each
// rule once. nil for a role without an aggregationRule.
func aggregatedRules(role *rbacv1.ClusterRole, all []rbacv1.ClusterRole) []rbacv1.PolicyRule {
	if role.AggregationRule == nil {
		return nil
	}
	var out []rbacv1.PolicyRule
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			continue
		}
		var matched []*rbacv1.ClusterRole
		for j := range all {
			if all[j].Name != role.Name && sel.Matches(labels.Set(all[j].Labels)) {
				matched = append(matched, &all[j])
			}
		}
		sort.Slice(matched, func(a, b int) bool { return matched[a].Name < matched[b].Name })
		for _, m := range matched {
			for _, r := range m.Rules {
				if !containsRule(out, r) {
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// equalRules tells whether a and b hold the same rules, in any order.
func equalRules(a, b []rbacv1.PolicyRule) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range a {
		if !containsRule(b, r) {
			return false
		}
	}
	for _, r := range b {
		if !containsRule(a, r) {
			return false
		}
	}
	return true
}

func containsRule(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	for _, x := range rules {
		if equality.Semantic.DeepEqual(x, r) {
			return true
		}
	}
	return false
}

func filterFunc(ps []prunable, f func(prunable) bool) []prunable {
	var out []prunable
	for _, p := range ps {
		if f(p) {
			out = append(out, p)
		}
	}
	return out
}
