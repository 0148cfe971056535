package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Kept is the action of a member an uninstall left in place (e.g. a PersistentVolumeClaim
// holding data), and of the namespace that holds it.
const Kept = output.Kept

// Uninstall tunes Applier.Uninstall.
type Uninstall struct {
	// Keep tells which members stay, and why (e.g. PersistentVolumeClaims unless --delete-data).
	// The namespace of a kept member stays too: deleting it would delete the member.
	Keep func(kind, namespace, name string) (why string, keep bool)
	// Wait for every deleted object to be gone (namespaces finish terminating), until ctx ends.
	Wait bool
}

// customResourceGrace bounds the wait for the set's custom resources to go before the rest is
// deleted: their controllers (members too) may hold finalizers and must still run meanwhile.
const customResourceGrace = time.Minute

// Uninstall deletes every member of the section's ApplySet: its custom resources first (and
// waits, bounded, for them to go while their controllers still run), then everything else, then
// its aggregating ClusterRoles (see deleteAggregating), then its CRDs, then its namespaces (each
// named before it goes, with everything in it); then it deletes again what the cluster re-creates
// meanwhile (see keepGone). Objects not
// labelled as members are never touched. The parent (the apply record) is deleted last, or,
// when members were kept, narrowed to them so a later uninstall still finds them. A section with
// no record has nothing to uninstall (nil, nil). Dry runs report and delete nothing.
func (a *Applier) Uninstall(ctx context.Context, u Uninstall) ([]output.Result, error) {
	a.defaults()
	s := &applySet{id: ApplySetID(a.Section), parent: RecordName(a.Section)}
	cms := a.Client.CoreV1().ConfigMaps(RecordNamespace)
	live, err := cms.Get(ctx, s.parent, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%sread the apply set's parent ConfigMap %s/%s: %w", a.prefix(), RecordNamespace, s.parent, err)
	}
	if id := live.Labels[kubectlapply.ApplySetParentIDLabel]; id != s.id {
		return nil, fmt.Errorf("%sConfigMap %s/%s is not the parent of this section's apply set (its ID label is %q, want %q): nothing uninstalled", a.prefix(), RecordNamespace, s.parent, id, s.id)
	}
	s.prevKinds = splitList(live.Annotations[kubectlapply.ApplySetGKsAnnotation])
	members, err := a.members(ctx, s, s.prevKinds, nil)
	if err != nil {
		return nil, err
	}
	var results []output.Result
	var doomed []prunable
	keptNamespaces := map[string]string{}
	var keptKinds, keptSpaces []string
	for _, m := range members {
		if u.Keep == nil {
			doomed = append(doomed, m)
			continue
		}
		if why, keep := u.Keep(m.kind, m.namespace, m.name); keep {
			results = append(results, output.Result{Kind: m.kind, Namespace: m.namespace, Name: m.name, Action: Kept, Detail: why})
			keptNamespaces[m.namespace] = m.kind + " " + m.name
			keptKinds = append(keptKinds, m.gk)
			if m.namespace != "" {
				keptSpaces = append(keptSpaces, m.namespace)
			}
			continue
		}
		doomed = append(doomed, m)
	}
	doomed, held := a.holdAggregating(ctx, doomed)
	crds := map[string]bool{}
	for _, m := range doomed {
		if m.kind == "CustomResourceDefinition" {
			crds[m.name] = true
		}
	}
	var stages [4][]prunable // custom resources, the rest, CRDs, namespaces
	for _, m := range doomed {
		switch {
		case m.kind == "Namespace" && m.gvr.Group == "":
			if holder, ok := keptNamespaces[m.name]; ok {
				results = append(results, output.Result{Kind: m.kind, Name: m.name, Action: Kept, Detail: "holds kept " + holder})
				keptKinds = append(keptKinds, m.gk)
				continue
			}
			stages[3] = append(stages[3], m)
		case m.kind == "CustomResourceDefinition":
			stages[2] = append(stages[2], m)
		case crds[m.gvr.Resource+"."+m.gvr.Group]:
			stages[0] = append(stages[0], m)
		default:
			stages[1] = append(stages[1], m)
		}
	}
	total := held.count()
	for _, stage := range stages {
		total += len(stage)
	}
	var done atomic.Int32
	as := deletion{action: output.Deleted, detail: "uninstalled", verb: "uninstall", quiet: true, done: func() {
		a.Progress.Update("%sdeleted %s%s", a.prefix(), output.CountOf(int(done.Add(1)), total, "object"), dryRunSuffix(a.DryRun))
	}}
	var deleted []prunable
	for i, stage := range stages {
		if i == 2 {
			// Before the CRDs, the aggregating ClusterRoles, once what aggregates into them is gone.
			res, aggregating, err := a.deleteAggregating(ctx, held, deleted, as)
			results = append(results, res...)
			deleted = append(deleted, aggregating...)
			if err != nil {
				return results, err
			}
		}
		if len(stage) == 0 {
			continue
		}
		if i == 3 {
			names := make([]string, len(stage))
			for j, m := range stage {
				names[j] = m.name
			}
			verb := "deleting"
			if a.DryRun != core.DryRunNone {
				verb = "would delete"
			}
			a.Progress.Logf("%s%s namespaces %s, with everything in them (objects this section did not make too)", a.prefix(), verb, strings.Join(names, ", "))
		}
		for j := range stage {
			stage[j].order = i // one group: deleted in parallel, bounded
		}
		res, err := a.deleteMembers(ctx, stage, as)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
		deleted = append(deleted, deletedOf(stage, res)...)
		if i == 0 && a.DryRun == core.DryRunNone {
			gctx, cancel := context.WithTimeout(ctx, customResourceGrace)
			if err := a.awaitGone(gctx, stage, "custom resources"); err != nil && ctx.Err() == nil {
				a.Progress.Logf("warning: %ssome custom resources are still there after %s (a finalizer whose controller is gone?): going on", a.prefix(), customResourceGrace)
			}
			cancel()
		}
	}
	if a.DryRun != core.DryRunNone {
		return results, nil
	}
	if len(keptKinds) > 0 {
		if err := a.writeParent(ctx, live, s, union(keptKinds), union(keptSpaces)); err != nil {
			return results, err
		}
	} else if err := Retry(ctx, func(ctx context.Context) error {
		err := cms.Delete(ctx, s.parent, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}); err != nil {
		return results, fmt.Errorf("%sdelete the apply record %s/%s: %w", a.prefix(), RecordNamespace, s.parent, err)
	}
	if u.Wait {
		if err := a.awaitGone(ctx, outsideOf(deleted, stages[3]), "deleted objects"); err != nil {
			return results, err
		}
	}
	a.keepGone(ctx, deleted)
	return results, nil
}

// outsideOf leaves out of objs what lives in one of the namespaces: it is gone once its namespace
// is, so waiting for the namespaces (which are in objs) waits for it, with a GET each instead of
// one per object.
func outsideOf(objs, namespaces []prunable) []prunable {
	in := map[string]bool{}
	for _, n := range namespaces {
		in[n.name] = true
	}
	var out []prunable
	for _, o := range objs {
		if o.namespace == "" || !in[o.namespace] {
			out = append(out, o)
		}
	}
	return out
}

// awaitGone polls until every object is gone (or replaced: another UID), saying how many are
// left; the error names a few that are not when ctx ends.
func (a *Applier) awaitGone(ctx context.Context, objs []prunable, what string) error {
	left := objs
	for {
		var still []prunable
		for _, p := range left {
			md, err := a.Metadata.Resource(p.gvr).Namespace(p.namespace).Get(ctx, p.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && md.UID != p.uid) {
				continue
			}
			still = append(still, p)
		}
		if len(still) == 0 {
			a.Progress.Done()
			return nil
		}
		left = still
		a.Progress.Update("%swaiting for %s to be gone", a.prefix(), output.CountOf(len(still), len(objs), strings.TrimSuffix(what, "s")))
		select {
		case <-ctx.Done():
			a.Progress.Done()
			refs := make([]string, 0, len(still))
			for _, p := range still {
				refs = append(refs, p.ref)
			}
			sort.Strings(refs)
			more := ""
			if len(refs) > 8 {
				more = fmt.Sprintf(" and %d more", len(refs)-8)
				refs = refs[:8]
			}
			return fmt.Errorf("%s%s not gone yet: %s%s: %w", a.prefix(), what, strings.Join(refs, ", "), more, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
