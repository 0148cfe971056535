package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Pruned is the action of an object a prune deleted (or, on a dry run, would delete).
const Pruned = "pruned"

// applySet is a section's set of applied objects recorded the way kubectl's ApplySet (KEP-3659)
// records one: the parent is the section's apply-record ConfigMap (RecordName in
// RecordNamespace) labelled with the set's ID and annotated with the group-kinds and namespaces
// of its members; every member carries the part-of label. `kubectl get -l
// applyset.kubernetes.io/part-of=ID` lists the members; kubectl itself refuses to prune a set
// another tool manages (the tooling annotation), as it should.
type applySet struct {
	id     string
	parent string
	// kinds and namespaces the parent listed before this run (members to look for).
	prevKinds, prevNamespaces []string
	// members is the digest of this run's member refs; clean says the parent records that a
	// prune against exactly these members succeeded and nothing was applied since under
	// another set, so there is nothing to prune and the member LISTs are skipped.
	members string
	clean   bool
}

// prunedAnnotation on the parent holds the members digest of the last successful prune. A run
// whose members differ removes it before it applies anything (so an interrupted run's new members
// are looked for by the next prune) and a successful prune writes it again.
const prunedAnnotation = "kubectl-flexigrobots/pruned-members"

// membersDigest identifies the set of member refs of items (in any order).
func membersDigest(items []*item, unrecorded func(*unstructured.Unstructured) bool) string {
	refs := make([]string, 0, len(items))
	for _, it := range items {
		if unrecorded == nil || !unrecorded(it.obj) {
			refs = append(refs, Ref(it.obj))
		}
	}
	sort.Strings(refs)
	sum := sha256.Sum256([]byte(strings.Join(refs, "\n")))
	return hex.EncodeToString(sum[:16])
}

// ApplySetID is the ApplySet ID of section's set (kubectl's own derivation from the parent).
func ApplySetID(section string) string {
	parent := &kubectlapply.ApplySetParentRef{Name: RecordName(section), Namespace: RecordNamespace,
		RESTMapping: &meta.RESTMapping{GroupVersionKind: corev1.SchemeGroupVersion.WithKind("ConfigMap"), Scope: meta.RESTScopeNamespace}}
	return kubectlapply.NewApplySet(parent, kubectlapply.ApplySetTooling{}, nil, nil).ID()
}

// labelMember marks o as a member of the set.
func (s *applySet) labelMember(o interface {
	GetLabels() map[string]string
	SetLabels(map[string]string)
}) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[kubectlapply.ApplysetPartOfLabel] = s.id
	o.SetLabels(labels)
}

// beginApplySet (members: membersDigest of items as given) reads the parent's member kinds and namespaces and, unless this is a dry run,
// widens them by those of items before anything is applied (so an interrupted run's new members
// are found by the next prune), creating the parent when it is absent.
func (a *Applier) beginApplySet(ctx context.Context, items []*item, members string) (*applySet, error) {
	s := &applySet{id: ApplySetID(a.Section), parent: RecordName(a.Section)}
	cms := a.Client.CoreV1().ConfigMaps(RecordNamespace)
	live, err := cms.Get(ctx, s.parent, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil && a.DryRun == core.DryRunClient:
		live = nil // a client dry run may have no cluster to read
	case err != nil:
		return nil, fmt.Errorf("%sread the apply set's parent ConfigMap %s/%s: %w", a.prefix(), RecordNamespace, s.parent, err)
	default:
		s.prevKinds = splitList(live.Annotations[kubectlapply.ApplySetGKsAnnotation])
		s.prevNamespaces = splitList(live.Annotations[kubectlapply.ApplySetAdditionalNamespacesAnnotation])
	}
	s.members = members
	s.clean = live != nil && live.Annotations[prunedAnnotation] == s.members
	for _, it := range items {
		// Objects another section also applies with our field manager stay out of the set: that
		// section's apply would take the label off again, and they are never ours alone to prune.
		if a.Unrecorded == nil || !a.Unrecorded(it.obj) {
			s.labelMember(it.obj)
		}
	}
	if a.DryRun != core.DryRunNone {
		return s, nil
	}
	kinds, namespaces := memberScope(items)
	return s, a.writeParent(ctx, live, s, union(s.prevKinds, kinds), union(s.prevNamespaces, namespaces))
}

// writeParent sets the parent's ApplySet label and annotations (creating it when live is nil).
func (a *Applier) writeParent(ctx context.Context, live *corev1.ConfigMap, s *applySet, kinds, namespaces []string) error {
	cms := a.Client.CoreV1().ConfigMaps(RecordNamespace)
	labels := map[string]string{kubectlapply.ApplySetParentIDLabel: s.id, ManagedByLabel: FieldManager}
	annotations := map[string]string{
		kubectlapply.ApplySetToolingAnnotation:              FieldManager + "/v1",
		kubectlapply.ApplySetGKsAnnotation:                  strings.Join(kinds, ","),
		kubectlapply.ApplySetAdditionalNamespacesAnnotation: strings.Join(namespaces, ","),
	}
	if s.clean {
		annotations[prunedAnnotation] = s.members
	}
	if live == nil {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: s.parent, Namespace: RecordNamespace, Labels: labels, Annotations: annotations}}
		_, err := cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: a.FieldManager})
		if err == nil || !apierrors.IsAlreadyExists(err) {
			return wrapParent(a, s, err)
		}
	} else if live.Labels[kubectlapply.ApplySetParentIDLabel] == s.id &&
		live.Annotations[kubectlapply.ApplySetGKsAnnotation] == annotations[kubectlapply.ApplySetGKsAnnotation] &&
		live.Annotations[kubectlapply.ApplySetAdditionalNamespacesAnnotation] == annotations[kubectlapply.ApplySetAdditionalNamespacesAnnotation] &&
		live.Annotations[kubectlapply.ApplySetToolingAnnotation] == annotations[kubectlapply.ApplySetToolingAnnotation] &&
		live.Annotations[prunedAnnotation] == annotations[prunedAnnotation] {
		return nil // a no-op re-run writes nothing
	}
	patchAnnotations := map[string]any{}
	for k, v := range annotations {
		patchAnnotations[k] = v
	}
	if !s.clean {
		patchAnnotations[prunedAnnotation] = nil // a merge patch's null removes it
	}
	patch := map[string]any{"metadata": map[string]any{"labels": labels, "annotations": patchAnnotations}}
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = cms.Patch(ctx, s.parent, types.MergePatchType, b, metav1.PatchOptions{FieldManager: a.FieldManager})
	return wrapParent(a, s, err)
}

func wrapParent(a *Applier, s *applySet, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%swrite the apply set's parent ConfigMap %s/%s: %w", a.prefix(), RecordNamespace, s.parent, err)
}

// memberScope returns the sorted group-kinds (Kind.group) and namespaces of items.
func memberScope(items []*item) (kinds, namespaces []string) {
	for _, it := range items {
		gk := it.obj.GroupVersionKind().GroupKind()
		kinds = append(kinds, gk.Kind+"."+gk.Group)
		if ns := it.obj.GetNamespace(); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	return union(kinds), union(namespaces)
}

// prune deletes the members of the set that items no longer hold, custom resources before
// their CRDs and namespaces last (the reverse of the apply's stages), aggregating ClusterRoles
// before the CRDs, once what aggregates into them is gone (see deleteAggregating), deletes again
// what the cluster re-creates meanwhile (see keepGone), then narrows the parent's
// kinds and namespaces to items'. Only labelled members are found: objects we never applied (or
// applied before pruning existed) are never deleted. A dry run reports what it would delete.
func (a *Applier) prune(ctx context.Context, s *applySet, items []*item) ([]output.Result, error) {
	want := map[string]bool{}
	for _, it := range items {
		want[Ref(it.obj)] = true
	}
	kinds, namespaces := memberScope(items)
	if s.clean && slices.Equal(s.prevKinds, kinds) && slices.Equal(s.prevNamespaces, namespaces) {
		return nil, nil // the last prune was against exactly these members: none can be stray
	}
	doomed, err := a.members(ctx, s, union(s.prevKinds, kinds), want)
	if err != nil {
		return nil, err
	}
	doomed, kept, err := a.keepMembers(ctx, doomed)
	if err != nil {
		return nil, err
	}
	doomed, held := a.holdAggregating(ctx, doomed)
	// The aggregating ClusterRoles go after the rest of the first group, before CRDs and namespaces.
	first := slices.IndexFunc(doomed, func(p prunable) bool { return p.order > 0 })
	if first < 0 {
		first = len(doomed)
	}
	res, err := a.deleteMembers(ctx, doomed[:first], prunedAs)
	results := append(kept, res...)
	if err != nil {
		return results, err
	}
	deleted := deletedOf(doomed[:first], res)
	var aggregating []prunable
	res, aggregating, err = a.deleteAggregating(ctx, held, deleted, prunedAs)
	results = append(results, res...)
	deleted = append(deleted, aggregating...)
	if err != nil {
		return results, err
	}
	res, err = a.deleteMembers(ctx, doomed[first:], prunedAs)
	results = append(results, res...)
	if err != nil || a.DryRun != core.DryRunNone {
		return results, err
	}
	a.keepGone(ctx, append(deleted, deletedOf(doomed[first:], res)...))
	// Pruned against these members: recorded, so a re-run of them skips the LISTs; unless a
	// member was kept, which each run asks about again (and names) until it can go.
	s.clean = len(kept) == 0
	return results, a.narrowParent(ctx, s, kinds, namespaces)
}

// keepMembers takes out of doomed the members KeepMember keeps, as kept results. They stay
// members; the parent goes on naming their kinds and namespaces as long as the objects applied
// have some of that kind and namespace (a KeepMember for a kind the objects no longer have would
// lose sight of it: keep only kinds the section always applies).
func (a *Applier) keepMembers(ctx context.Context, doomed []prunable) ([]prunable, []output.Result, error) {
	if a.KeepMember == nil {
		return doomed, nil, nil
	}
	var rest []prunable
	var kept []output.Result
	for _, p := range doomed {
		why, keep, err := a.KeepMember(ctx, p.kind, p.namespace, p.name)
		if err != nil {
			return nil, nil, fmt.Errorf("%sprune: %w", a.prefix(), err)
		}
		if !keep {
			rest = append(rest, p)
			continue
		}
		r := output.Result{Kind: p.kind, Namespace: p.namespace, Name: p.name, Action: Kept, Detail: why}
		if a.DryRun.Active() {
			r.DryRun = a.DryRun
		}
		kept = append(kept, r)
	}
	return rest, kept, nil
}

// narrowParent sets the parent's kinds and namespaces to those of this run's members.
func (a *Applier) narrowParent(ctx context.Context, s *applySet, kinds, namespaces []string) error {
	live, err := a.Client.CoreV1().ConfigMaps(RecordNamespace).Get(ctx, s.parent, metav1.GetOptions{})
	if err != nil {
		return wrapParent(a, s, err)
	}
	return a.writeParent(ctx, live, s, kinds, namespaces)
}

// members lists the set's labelled members of kinds (Kind.group) whose refs want does not
// hold, in deletion order: custom resources and the rest, then CRDs, then namespaces. nil with
// no error when a client dry run cannot read them (it says so).
func (a *Applier) members(ctx context.Context, s *applySet, kinds []string, want map[string]bool) ([]prunable, error) {
	found := make([][]prunable, len(kinds))
	unreadable := make([]error, len(kinds))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(a.Parallelism, 1))
	for i, k := range kinds { // one metadata LIST per kind, in parallel
		g.Go(func() error {
			kind, group, _ := strings.Cut(k, ".")
			m, err := a.Mapper.RESTMapping(schema.GroupKind{Group: group, Kind: kind})
			if meta.IsNoMatchError(err) {
				return nil // the kind is gone (its CRD deleted): so are its objects
			}
			if err != nil {
				return fmt.Errorf("%sprune: %w", a.prefix(), err)
			}
			list, err := a.Metadata.Resource(m.Resource).List(gctx, metav1.ListOptions{LabelSelector: kubectlapply.ApplysetPartOfLabel + "=" + s.id})
			if err != nil && a.DryRun == core.DryRunClient {
				unreadable[i] = err
				return nil
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("%sprune: list %s: %w", a.prefix(), m.Resource.Resource, err)
			}
			if list == nil {
				return nil
			}
			for _, o := range list.Items {
				u := &unstructured.Unstructured{}
				u.SetGroupVersionKind(m.GroupVersionKind)
				u.SetNamespace(o.Namespace)
				u.SetName(o.Name)
				if !want[Ref(u)] {
					found[i] = append(found[i], prunable{ref: Ref(u), gk: k, gvr: m.Resource, namespace: o.Namespace, name: o.Name, uid: o.UID, kind: m.GroupVersionKind.Kind, order: pruneOrder(u)})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := errors.Join(unreadable...); err != nil {
		a.Progress.Logf("warning: %scannot tell what a prune would delete (%v)", a.prefix(), err)
		return nil, nil
	}
	var doomed []prunable
	for _, f := range found {
		doomed = append(doomed, f...)
	}
	sort.SliceStable(doomed, func(i, j int) bool {
		if doomed[i].order != doomed[j].order {
			return doomed[i].order < doomed[j].order
		}
		return doomed[i].ref < doomed[j].ref
	})
	return doomed, nil
}

// prunable is one member to delete.
type prunable struct {
	ref, namespace, name, kind string
	gk                         string // Kind.group, as the parent lists it
	gvr                        schema.GroupVersionResource
	uid                        types.UID
	order                      int
}

// pruneOrder is the apply's order reversed: 0 everything but CRDs and Namespaces (custom
// resources among them), 1 CRDs, 2 Namespaces.
func pruneOrder(o interface{ GetObjectKind() schema.ObjectKind }) int {
	gk := o.GetObjectKind().GroupVersionKind().GroupKind()
	switch gk {
	case schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		return 1
	case schema.GroupKind{Kind: "Namespace"}:
		return 2
	}
	return 0
}

// splitList splits a comma-separated annotation value.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// union returns the sorted distinct values of the lists.
func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
