package kube

import (
	"context"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// recheckSettle is how long after its last deletion a deletion keeps looking for objects the
// cluster creates again (a controller writing one from a cache that still holds it).
var recheckSettle = 2 * time.Second

// recheckEvery is the pause between two looks.
var recheckEvery = 500 * time.Millisecond

// maxRedeletes bounds how often one re-created object is deleted again.
const maxRedeletes = 3

// recreation is an object found under the name of one a deletion deleted, with another UID.
type recreation struct {
	p        prunable
	uid      types.UID
	managers []string
	// member: it carries an ApplySet's part-of label, so something applied it on purpose.
	member bool
}

// keepGone looks, for recheckSettle after the deletion (longer after each re-deletion), for
// objects of deleted that the cluster created again under the same name: each is deleted again
// (with a UID precondition) up to maxRedeletes times, and otherwise named in a warning with the
// managers of its fields. Objects in a deleted namespace are left out (they go with it). A dry run
// deleted nothing and is not checked. It never fails: it ends with ctx.
func (a *Applier) keepGone(ctx context.Context, deleted []prunable) {
	if a.DryRun.Active() || len(deleted) == 0 {
		return
	}
	var namespaces []prunable
	for _, p := range deleted {
		if p.kind == "Namespace" && p.gvr.Group == "" {
			namespaces = append(namespaces, p)
		}
	}
	watch := outsideOf(deleted, namespaces)
	ours := map[string]map[types.UID]bool{} // ref -> the UIDs deleted under it
	for _, p := range watch {
		ours[p.ref] = map[types.UID]bool{p.uid: true}
	}
	redeleted := map[string]int{}
	end := time.Now().Add(recheckSettle)
	for {
		var left []prunable
		for _, r := range a.recreated(ctx, watch, ours) {
			if r.member {
				left = append(left, r.p) // applied on purpose: not ours to delete, nor to report
				continue
			}
			who := strings.Join(r.managers, ", ")
			if redeleted[r.p.ref] >= maxRedeletes {
				a.Progress.Logf("warning: %s%s was created again by the cluster (%s) after it was deleted %d times: left in place",
					a.prefix(), r.p.ref, who, redeleted[r.p.ref]+1)
				left = append(left, r.p)
				continue
			}
			redeleted[r.p.ref]++
			ours[r.p.ref][r.uid] = true
			uid := r.uid
			err := Retry(ctx, func(ctx context.Context) error {
				return a.Metadata.Resource(r.p.gvr).Namespace(r.p.namespace).Delete(ctx, r.p.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			})
			switch {
			case err == nil, apierrors.IsNotFound(err):
				a.Progress.Logf("%s%s was created again by the cluster (%s) after its deletion: deleted again", a.prefix(), r.p.ref, who)
				end = time.Now().Add(recheckSettle)
			case ctx.Err() != nil:
				return
			case apierrors.IsConflict(err):
				end = time.Now().Add(recheckSettle) // replaced once more: the next look finds it
			default:
				a.Progress.Logf("warning: %s%s was created again by the cluster (%s) after its deletion and cannot be deleted again: %v", a.prefix(), r.p.ref, who, err)
				left = append(left, r.p)
			}
		}
		if len(left) > 0 {
			watch = withoutRefs(watch, left)
		}
		if len(watch) == 0 || !time.Now().Before(end) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(recheckEvery):
		}
	}
}

// recreated reads the objects of watch (one metadata LIST per kind and namespace) and returns
// those that exist with a UID ours does not hold for their ref. What cannot be read is skipped:
// a kind no longer served has no objects.
func (a *Applier) recreated(ctx context.Context, watch []prunable, ours map[string]map[types.UID]bool) []recreation {
	type scope struct {
		gvr       schema.GroupVersionResource
		namespace string
	}
	byScope := map[scope][]prunable{}
	for _, p := range watch {
		byScope[scope{p.gvr, p.namespace}] = append(byScope[scope{p.gvr, p.namespace}], p)
	}
	var out []recreation
	for sc, ps := range byScope {
		list, err := a.Metadata.Resource(sc.gvr).Namespace(sc.namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		byName := map[string]*metav1.PartialObjectMetadata{}
		for i := range list.Items {
			byName[list.Items[i].Name] = &list.Items[i]
		}
		for _, p := range ps {
			md, ok := byName[p.name]
			if !ok || ours[p.ref][md.UID] {
				continue // gone; or still there, terminating, or already handled
			}
			_, member := md.Labels[kubectlapply.ApplysetPartOfLabel]
			out = append(out, recreation{p: p, uid: md.UID, managers: managersOf(md), member: member})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].p.ref < out[j].p.ref })
	return out
}

// managersOf names the field managers of md, sorted ("no field manager recorded" when it has none).
func managersOf(md metav1.Object) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range md.GetManagedFields() {
		if !seen[e.Manager] {
			seen[e.Manager] = true
			out = append(out, e.Manager)
		}
	}
	if len(out) == 0 {
		return []string{"no field manager recorded"}
	}
	sort.Strings(out)
	return out
}

// deletedOf returns the objects of doomed that a successful deleteMembers (results, one per
// object) deleted: not those found gone already or replaced by another object meanwhile.
func deletedOf(doomed []prunable, results []output.Result) []prunable {
	if len(results) != len(doomed) {
		return nil
	}
	var out []prunable
	for i, r := range results {
		if r.Action != "" {
			out = append(out, doomed[i])
		}
	}
	return out
}

func withoutRefs(ps, drop []prunable) []prunable {
	gone := map[string]bool{}
	for _, p := range drop {
		gone[p.ref] = true
	}
	var out []prunable
	for _, p := range ps {
		if !gone[p.ref] {
			out = append(out, p)
		}
	}
	return out
}
