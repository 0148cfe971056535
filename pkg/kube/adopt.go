package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Adoption: objects a person made by hand with kubectl (client-side apply, create, patch, edit,
// ...) or helm carry their fields under those tools' managers, with operation Update. A
// server-side apply of the same object conflicts wherever the values are not byte-for-byte the
// same as the applied ones, and that includes values that only differ by what the server
// defaulted inside an atomic list (a RoleBinding's subjects, a webhook's rules): the same
// upstream manifest applied client-side then server-side conflicts. The Applier takes such an
// object over the way kubectl's own client-side to server-side migration does (client-go's
// csaupgrade), but only where the values agree:
//
//  1. Before any object of the set is written, every live object that hand tools manage and this
//     field manager has never applied is applied as a server dry run. Where the server names
//     conflicts, the object is applied again as a forced dry run, and each conflicting field is
//     compared between the live object and that result: equal values (after the server's
//     defaulting) mean the conflict only names another owner of the same value.
//  2. Any field whose value would change is reported with its manager, and nothing is written
//     (exit 2, naming --force-conflicts, which takes them).
//  3. Objects whose conflicts all agree are applied with force; then the fields the hand tools'
//     entries share with this manager's are taken out of those entries (a JSON patch of
//     managedFields, guarded by the resourceVersion), so a later release that drops a field
//     really removes it, as csaupgrade does. Fields only the hand tools set stay theirs.

// isHandEntry tells whether a managedFields entry is one of a tool a person runs by hand:
// kubectl's verbs (client-side apply, create, patch, edit, replace, label, ...) record operation
// Update under "kubectl" or "kubectl-<verb>", helm 3 under "helm"; `kubectl apply --server-side`
// records operation Apply under "kubectl" (Kubeflow's README installs that way from v1.9).
func isHandEntry(e metav1.ManagedFieldsEntry) bool {
	if e.Subresource != "" || strings.HasPrefix(e.Manager, FieldManager) {
		return false // the plugin's own helm writes as FieldManager too
	}
	switch e.Operation {
	case metav1.ManagedFieldsOperationUpdate:
		return e.Manager == "kubectl" || strings.HasPrefix(e.Manager, "kubectl-") || e.Manager == "helm"
	case metav1.ManagedFieldsOperationApply:
		return e.Manager == "kubectl"
	}
	return false
}

// handManagersOf lists the hand tools' managers of entries, sorted.
func handManagersOf(entries []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, e := range entries {
		if isHandEntry(e) && !slices.Contains(out, e.Manager) {
			out = append(out, e.Manager)
		}
	}
	slices.Sort(out)
	return out
}

// appliedBy tells whether manager has ever applied the object (an Apply entry of its own).
func appliedBy(entries []metav1.ManagedFieldsEntry, manager string) bool {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			return true
		}
	}
	return false
}

// adoption is what the adoption check decided for one object.
type adoption struct {
	// from are the hand tools whose object this manager takes over.
	from []string
	// force: the object's conflicts all hold the values the apply sends.
	force bool
}

// FieldConflict is one field a hand tool set to another value than the apply sends.
type FieldConflict struct {
	Ref, Field, Manager string
	// Live and Want are the values, shortened for a message.
	Live, Want string
}

// AdoptionError lists the fields of hand-made objects that hold other values than the apply
// sends. It comes as a usage error (exit 2): nothing of the set was written.
type AdoptionError struct {
	Section   string
	Conflicts []FieldConflict
}

func (e *AdoptionError) Error() string {
	var b strings.Builder
	prefix := ""
	if e.Section != "" {
		prefix = e.Section + ": "
	}
	refs := map[string]bool{}
	for _, c := range e.Conflicts {
		refs[c.Ref] = true
	}
	fmt.Fprintf(&b, "%s%d objects made by hand hold other values than this apply sends; nothing was changed:", prefix, len(refs))
	for _, c := range e.Conflicts {
		fmt.Fprintf(&b, "\n  - %s: %s (set by %s): live %s, wanted %s", c.Ref, c.Field, c.Manager, c.Live, c.Want)
	}
	b.WriteString("\nre-run with --force-conflicts to take them over with these values, or make the settings match what the cluster holds")
	return b.String()
}

// preflightAdoption runs the adoption check (see the top of this file) on every live object of
// items that hand tools manage and this manager never applied, before anything is written. It
// marks the objects to take over with force and returns an *AdoptionError listing every field
// whose value would change. A forced run (ForceConflicts) and a client dry run check nothing.
func (a *Applier) preflightAdoption(ctx context.Context, items []*item) error {
	if a.ForceConflicts || a.DryRun == core.DryRunClient {
		return nil
	}
	var (
		mu        sync.Mutex
		conflicts []FieldConflict
		firstErr  error
		wg        sync.WaitGroup
		slots     = make(chan struct{}, a.Parallelism)
	)
	for _, it := range items {
		wg.Add(1)
		slots <- struct{}{}
		go func(it *item) {
			defer func() { <-slots; wg.Done() }()
			ad, found, err := a.adoptionOf(ctx, it)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && firstErr == nil:
				firstErr = fmt.Errorf("%s: %w", Ref(it.obj), err)
			case len(found) > 0:
				conflicts = append(conflicts, found...)
			default:
				it.adopt = ad
			}
		}(it)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if len(conflicts) > 0 {
		slices.SortFunc(conflicts, func(x, y FieldConflict) int { return strings.Compare(x.Ref+x.Field, y.Ref+y.Field) })
		return &core.ExitError{Code: core.ExitUsage, Err: &AdoptionError{Section: a.Section, Conflicts: conflicts}}
	}
	return nil
}

// adoptionOf runs the adoption check on it when the live object is one hand tools manage and
// this manager never applied; otherwise it returns nothing.
func (a *Applier) adoptionOf(ctx context.Context, it *item) (*adoption, []FieldConflict, error) {
	m, err := a.itemMapping(it)
	if err != nil {
		return nil, nil, nil // not served yet (a CRD of the set): nothing of that kind exists
	}
	var live *metav1.PartialObjectMetadata
	err = Retry(ctx, func(ctx context.Context) error {
		live, err = a.live.meta(ctx, a.Clients, m.Resource, it.obj.GetNamespace(), it.obj.GetName())
		if err != nil && notServedYet(err) {
			// The resource is not served, so nothing of it exists; a stale mapping is forgotten.
			live = nil
			a.forgetStaleMapping(it, err)
			return nil
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if live == nil || appliedBy(live.ManagedFields, a.FieldManager) || len(handManagersOf(live.ManagedFields)) == 0 {
		return nil, nil, nil
	}
	if err := a.complete(it.obj); err != nil {
		return nil, nil, err
	}
	var ad *adoption
	var found []FieldConflict
	err = Retry(ctx, func(ctx context.Context) error {
		var err error
		ad, found, err = a.checkAdoption(ctx, a.resource(m.Resource, it.obj.GetNamespace()), it.obj)
		return err
	})
	return ad, found, err
}

// checkAdoption dry-runs the apply of o and, on conflicts with hand tools only, compares each
// conflicting field between the live object and a forced dry run's result. It returns the
// fields whose values differ, or the adoption to perform. Conflicts with other managers (a
// controller, another server-side applier) are left to the apply, which reports them as before.
func (a *Applier) checkAdoption(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured) (*adoption, []FieldConflict, error) {
	opts := metav1.ApplyOptions{FieldManager: a.FieldManager, DryRun: []string{metav1.DryRunAll}}
	_, err := ri.Apply(ctx, o.GetName(), o, opts)
	if err != nil && !k8serrors.IsConflict(err) {
		return nil, nil, err
	}
	live, gerr := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	if gerr != nil {
		return nil, nil, gerr
	}
	ad := &adoption{from: handManagersOf(live.GetManagedFields())}
	if err == nil {
		return ad, nil, nil
	}
	causes := applyConflicts(err)
	for _, c := range causes {
		if !slices.Contains(ad.from, c.manager) {
			return nil, nil, nil // someone else's field: the apply says so as it always has
		}
	}
	opts.Force = true
	forced, err := ri.Apply(ctx, o.GetName(), o, opts)
	if err != nil {
		return nil, nil, err
	}
	if a.Generated != nil && a.Generated(o) {
		ad.force = true
		return ad, nil, nil
	}
	secret := o.GetKind() == "Secret" && o.GroupVersionKind().Group == ""
	var found []FieldConflict
	for _, c := range causes {
		lv, lok, lerr := lookupField(live.Object, c.field)
		wv, wok, werr := lookupField(forced.Object, c.field)
		if lerr == nil && werr == nil && lok == wok && apiequality.Semantic.DeepEqual(lv, wv) {
			continue
		}
		if lerr == nil && werr == nil && lok && wok && a.Replaces != nil && a.Replaces(o, c.field, lv, wv) {
			continue
		}
		fc := FieldConflict{Ref: Ref(o), Field: c.field, Manager: c.manager, Live: shortValue(lv, lok), Want: shortValue(wv, wok)}
		if secret {
			fc.Live, fc.Want = "(a Secret value, not shown)", "another"
		}
		found = append(found, fc)
	}
	if len(found) > 0 {
		return nil, found, nil
	}
	ad.force = true
	return ad, nil, nil
}

type conflictCause struct{ field, manager string }

// applyConflicts reads the fields and managers of a server-side apply conflict
// (`conflict with "kubectl-client-side-apply" using v1` at `.data.config.yaml`).
func applyConflicts(err error) []conflictCause {
	var out []conflictCause
	st, ok := err.(k8serrors.APIStatus)
	if !ok || st.Status().Details == nil {
		return nil
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type != metav1.CauseTypeFieldManagerConflict {
			continue
		}
		mgr := c.Message
		if _, rest, ok := strings.Cut(mgr, `"`); ok {
			mgr, _, _ = strings.Cut(rest, `"`)
		}
		out = append(out, conflictCause{field: c.Field, manager: mgr})
	}
	return out
}

// shortValue renders a field's value for a message, at most 80 characters.
func shortValue(v any, ok bool) string {
	if !ok {
		return "(unset)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if s := string(b); len(s) > 80 {
		return s[:77] + "..."
	}
	return string(b)
}

// releaseShared takes the fields this manager now applies out of the hand tools' entries of
// applied (the object as the apply left it), so those tools no longer co-own them; an entry left
// empty goes. It writes only when something changes, guarded by applied's resourceVersion (a
// writer in between makes it a no-op: the next run does it).
func (a *Applier) releaseShared(ctx context.Context, gvr schema.GroupVersionResource, applied *unstructured.Unstructured) error {
	entries := applied.GetManagedFields()
	ours := &fieldpath.Set{}
	for _, e := range entries {
		if e.Manager == a.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			if err := ours.FromJSON(strings.NewReader(string(e.FieldsV1.Raw))); err != nil {
				return err
			}
		}
	}
	if ours.Empty() {
		return nil
	}
	changed := false
	kept := make([]metav1.ManagedFieldsEntry, 0, len(entries))
	for _, e := range entries {
		if !isHandEntry(e) || e.FieldsV1 == nil {
			kept = append(kept, e)
			continue
		}
		theirs := &fieldpath.Set{}
		if err := theirs.FromJSON(strings.NewReader(string(e.FieldsV1.Raw))); err != nil {
			return err
		}
		rest := theirs.Difference(ours)
		if rest.Equals(theirs) {
			kept = append(kept, e)
			continue
		}
		changed = true
		if rest.Empty() {
			continue
		}
		raw, err := rest.ToJSON()
		if err != nil {
			return err
		}
		e.FieldsV1 = &metav1.FieldsV1{Raw: raw}
		kept = append(kept, e)
	}
	if !changed {
		return nil
	}
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": applied.GetResourceVersion()},
		{"op": "replace", "path": "/metadata/managedFields", "value": kept},
	})
	if err != nil {
		return err
	}
	_, err = a.resource(gvr, applied.GetNamespace()).Patch(ctx, applied.GetName(), types.JSONPatchType, patch, metav1.PatchOptions{FieldManager: a.FieldManager})
	if k8serrors.IsInvalid(err) || k8serrors.IsConflict(err) || k8serrors.IsNotFound(err) {
		return nil // written in between (the test failed) or gone: the next run does it
	}
	return err
}

// logAdopted says in one line how many objects the apply took over from hand tools, and from
// which (each object's result says it in its detail too).
func (a *Applier) logAdopted(items []*item) {
	n := 0
	var from []string
	for _, it := range items {
		if it.err != nil || len(it.adoptedFrom) == 0 {
			continue
		}
		n++
		for _, m := range it.adoptedFrom {
			if !slices.Contains(from, m) {
				from = append(from, m)
			}
		}
	}
	if n == 0 {
		return
	}
	slices.Sort(from)
	verb := "adopted"
	if a.DryRun != core.DryRunNone {
		verb = "would adopt"
	}
	a.Progress.Logf("%s%s %s made by %s (fields they set with the same values now belong to %s)",
		a.prefix(), verb, output.Count(n, "object"), strings.Join(from, ", "), a.FieldManager)
}
