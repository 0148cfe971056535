package kube

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Applier converges a set of objects with server-side apply in one pass: Namespaces first, then
// everything else with bounded parallelism (CRDs lead; each custom resource waits only for its
// own CRD to be Established; an object a live webhook cannot yet admit waits for the webhook's
// Service to have ready endpoints), then webhook configurations and APIServices, after what
// serves them. Before it returns, every CRD it created or changed is Established and the
// RESTMapper knows it. Transient errors are retried with backoff until ctx ends.
type Applier struct {
	*Clients
	// FieldManager defaults to FieldManager.
	FieldManager string
	// ForceConflicts takes over fields other managers own (kubectl's --force-conflicts).
	ForceConflicts bool
	// TakeBack, for sections whose flags are the whole truth of what they apply, re-applies with
	// force when someone else changed a field the section owns, and says so (which fields, which
	// manager) in a note; without it a conflict fails the object, saying how to proceed.
	TakeBack bool
	// DryRun is core.DryRunNone, DryRunClient or DryRunServer.
	DryRun core.DryRunStrategy
	// Parallelism bounds requests in flight (default DefaultParallelism).
	Parallelism int
	// NoManagedByLabel leaves objects without the app.kubernetes.io/managed-by label.
	NoManagedByLabel bool
	// Progress reports on stderr; nil is silent.
	Progress *output.Progress
	// Section prefixes progress and errors, e.g. "lb".
	Section string
	// SkipUnchanged turns on the fast no-op re-run: objects whose desired state and live
	// resourceVersion are what this section's last apply recorded are reported unchanged without a
	// request (see record), on a client dry run too. The record is a ConfigMap in kube-system
	// named RecordName(Section), written by real applies only.
	SkipUnchanged bool
	// ForceApply sends every object as a server-side apply even where SkipUnchanged would skip it
	// (and without the dry run first that spares Kubernetes <= 1.21 a write on a no-op apply),
	// and records what it sent: the escape hatch (--force-apply) for a record that no longer
	// says the truth.
	ForceApply bool
	// Complete fills in what an object holds only as placeholders (a cached build's CRD schemas,
	// see SchemaPlaceholder) before the object is sent or printed; an object the apply record
	// skips is never completed (its hash is the whole object's). Nil: objects are whole.
	Complete func(*unstructured.Unstructured) error
	// Unrecorded names objects that another section also writes (with the same field manager):
	// SkipUnchanged never skips or records them, so the other section's writes cannot make a
	// re-run rewrite the record. They are applied every time (a no-op apply moves nothing).
	Unrecorded func(*unstructured.Unstructured) bool
	// Generated names objects whose values the section makes itself whatever was there (e.g.
	// credentials generated in place of published ones): made by hand, they are taken over with
	// force, never stopped as an adoption conflict (see adopt.go).
	Generated func(*unstructured.Unstructured) bool
	// Replaces tells whether a value that differs from what a hand tool set is the section's
	// deliberate replacement of the upstream one (e.g. a reference to the kustomize-generated
	// Secret `oauth2-proxy-h675gf55ht` that the section's own Secret `oauth2-proxy` replaces):
	// such a field is taken over, not stopped as an adoption conflict.
	Replaces func(o *unstructured.Unstructured, field string, live, want any) bool
	// ApplySet makes the objects an ApplySet (see applySet): each labelled as a member, the
	// section's record ConfigMap its parent; after a successful apply, members the objects no
	// longer hold are deleted (dry runs report them) unless NoPrune, which only records them.
	ApplySet, NoPrune bool
	// KeepMember names the members a prune must leave in place though the objects no longer
	// hold them, and why (e.g. a claim whose data a new release stores elsewhere, until it is
	// copied): reported as kept, never deleted. Called only for members a prune would delete.
	KeepMember func(ctx context.Context, kind, namespace, name string) (why string, keep bool, err error)

	live           liveIndex
	rawOnce        sync.Once
	raw            rest.Interface
	rawErr         error
	noMetadataOnly atomic.Bool
}

// ObjectError is the last reason one object failed.
type ObjectError struct {
	Ref string
	Err error
}

// ApplyError lists the objects that failed, each with its last reason. Interrupted says the run's
// context was cancelled (Ctrl-C): then the message is one line, as every unfinished object's
// reason would only be "context canceled". TimedOut says its deadline passed: then the message
// is one line naming what the run was waiting for, then the first few real reasons.
type ApplyError struct {
	Section     string
	Failed      []ObjectError
	Total       int
	Interrupted bool
	TimedOut    bool
	// After is how long the apply ran before it ended.
	After time.Duration
	// Applied is how many objects went through (or were found unchanged) before it ended.
	Applied int
}

// waitError is an object's failure while it waited for something else: a webhook that did not
// answer, a CRD that was not established. For names that thing; the message is Err's.
type waitError struct {
	For string
	Err error
}

func (e *waitError) Error() string { return e.Err.Error() }
func (e *waitError) Unwrap() error { return e.Err }

// maxTimeoutReasons is how many real reasons a timeout's message lists under its line.
const maxTimeoutReasons = 3

// maxListedFailures is how many failed objects the message names; the rest are counted.
const maxListedFailures = 8

func (e *ApplyError) Error() string {
	prefix := ""
	if e.Section != "" {
		prefix = e.Section + ": "
	}
	if e.Interrupted {
		return fmt.Sprintf("%sinterrupted with %d of %d objects applied (what was applied stays; re-run to continue)", prefix, e.Applied, e.Total)
	}
	if e.TimedOut {
		return e.timeoutMessage(prefix)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d of %d objects failed to apply (what succeeded stays; fix the cause and re-run):", prefix, len(e.Failed), e.Total)
	// The real reasons first: when the time ran out, most objects only say "context deadline
	// exceeded", and the few that say why are what the user needs.
	listed, rest := 0, 0
	var restReason error
	for _, pass := range []bool{false, true} {
		for _, f := range e.Failed {
			if isContextError(f.Err) != pass {
				continue
			}
			if listed == maxListedFailures {
				rest++
				if restReason == nil {
					restReason = f.Err
				}
				continue
			}
			fmt.Fprintf(&b, "\n  - %s: %v", f.Ref, f.Err)
			listed++
		}
	}
	if rest > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more (e.g. %v)", rest, restReason)
	}
	return b.String()
}

// timeoutMessage: one line with how far the apply got and what it was waiting for, then the
// first few objects that failed for a reason of their own, then how many more did not get through.
func (e *ApplyError) timeoutMessage(prefix string) string {
	var waits []string
	seen := map[string]bool{}
	var real []ObjectError
	for _, f := range e.Failed {
		var we *waitError
		if errors.As(f.Err, &we) && !seen[we.For] {
			seen[we.For] = true
			waits = append(waits, we.For)
		}
		if !isContextError(f.Err) {
			real = append(real, f)
		}
	}
	waiting := "still applying"
	if len(waits) > 0 {
		waiting = "waiting for " + strings.Join(waits, ", ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%stimed out after %s, %s, with %d of %d objects applied (what was applied stays; re-run, with a longer --timeout, to continue)",
		prefix, e.After.Round(time.Second), waiting, e.Applied, e.Total)
	for i, f := range real {
		if i == maxTimeoutReasons {
			break
		}
		fmt.Fprintf(&b, "\n  - %s: %v", f.Ref, f.Err)
	}
	if rest := len(e.Failed) - min(len(real), maxTimeoutReasons); rest > 0 {
		fmt.Fprintf(&b, "\n  ... and %s not applied in time", output.Count(rest, "more object"))
	}
	return b.String()
}

// isContextError tells whether err says no more than that the run's context ended.
func isContextError(err error) bool {
	msg := err.Error()
	return (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) &&
		!strings.Contains(msg, "webhook") || msg == context.Canceled.Error() || msg == context.DeadlineExceeded.Error()
}

// DefaultParallelism is how many requests the Applier keeps in flight unless told otherwise.
const DefaultParallelism = 8

// item is one object on its way through the stages.
type item struct {
	index   int
	obj     *unstructured.Unstructured
	mapping *meta.RESTMapping
	result  output.Result
	err     error
	// done is closed when the item is first finished (custom resources wait for their CRD's).
	done     chan struct{}
	doneOnce sync.Once
	// crd is the CRD of the same set that defines this custom resource, if any.
	crd *item
	// hash (of what we send) and owned (of the field set our apply owns after it) feed the
	// SkipUnchanged record.
	hash    string
	owned   string
	skipped bool
	// adopt is the adoption check's verdict for a hand-made object (see adopt.go); adoptedFrom
	// names the hand tools whose object the apply took over.
	adopt       *adoption
	adoptedFrom []string
}

// applyRun is the state one Apply call shares between its workers.
type applyRun struct {
	gate    *webhookGate
	rec     *record
	crds    *crdTracker
	done    atomic.Int32
	changed atomic.Int32 // objects the run created or changed so far
	total   int
	// finished counts an item that got a result (applied, or skipped as unchanged) and says how
	// far the run is; one that failed or was cut off is not counted, as the final count does not.
	finished func(it *item)
	// dryNamespaces would be created by this dry run: the server cannot check objects in them.
	dryNamespaces map[string]bool
}

// defaults fills in the field manager, the parallelism and the dry-run mode left unset.
func (a *Applier) defaults() {
	if a.FieldManager == "" {
		a.FieldManager = FieldManager
	}
	if a.Parallelism <= 0 {
		a.Parallelism = DefaultParallelism
	}
	if a.DryRun == "" {
		a.DryRun = core.DryRunNone
	}
}

// Apply converges objs and reports one result per object, in input order. On failure the report
// still holds what succeeded and the error is an *ApplyError.
func (a *Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured) (*output.Report, error) {
	a.defaults()
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx) // also ends the CRD watch
	defer cancel()
	items, stages := a.plan(objs)
	// The members digest is taken from the objects as given: the adoption check maps them, and
	// mapping defaults or clears namespaces only for the kinds already served, which differs
	// between a first run (CRDs of the set not yet served) and a re-run.
	members := membersDigest(items, a.Unrecorded)
	if err := a.preflightAdoption(ctx, items); err != nil {
		return &output.Report{}, err
	}
	var set *applySet
	if a.ApplySet {
		var err error
		if set, err = a.beginApplySet(ctx, items, members); err != nil {
			return &output.Report{}, err
		}
	}
	r := &applyRun{gate: newWebhookGate(a.Clients), total: len(items), crds: newCRDTracker(a.Clients), dryNamespaces: map[string]bool{}}
	r.finished = func(it *item) {
		if it.err != nil || it.result.Action == "" {
			return // failed or cut off: counted as the final count counts it, not done
		}
		r.done.Add(1)
		// The words tell the truth: nothing is "applied" by a dry run or a run that found every
		// object so far unchanged.
		switch {
		case a.DryRun != core.DryRunNone:
			a.Progress.Update("%schecked %s (%s dry run)", a.prefix(), output.CountOf(int(r.done.Load()), r.total, "object"), a.DryRun)
		case r.changed.Load() == 0:
			a.Progress.Update("%schecked %s, none changed so far", a.prefix(), output.CountOf(int(r.done.Load()), r.total, "object"))
		default:
			a.Progress.Update("%sapplied %s (%d changed)", a.prefix(), output.CountOf(int(r.done.Load()), r.total, "object"), r.changed.Load())
		}
	}
	if a.SkipUnchanged && a.DryRun != core.DryRunServer {
		// A client dry run reads the record too, so what the last apply left as it is reports
		// unchanged; it never saves it. A server dry run sends every object for the server to check.
		r.rec = a.loadRecord(ctx)
	}
	for _, stage := range stages {
		hold := func(ctx context.Context, it *item) bool {
			if a.awaitCRD(ctx, r, it) {
				return true
			}
			r.finished(it)
			return false
		}
		a.run(ctx, stage, hold, func(ctx context.Context, it *item) { a.applyItem(ctx, r, it) })
		for _, it := range stage {
			if it.obj.GetKind() == "Namespace" && it.obj.GroupVersionKind().Group == "" && it.err == nil && it.result.Action == output.Created {
				if it.result.DryRun == "" {
					a.live.markEmptyNamespace(it.obj.GetName())
				} else {
					r.dryNamespaces[it.obj.GetName()] = true
				}
			}
		}
	}
	a.awaitEstablished(ctx, r, items)
	a.Progress.Done()
	a.logAdopted(items)
	// The record is saved even when the run was interrupted or timed out, so the re-run skips
	// what this one applied: one write, given a few seconds of its own.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer scancel()
	if a.DryRun != core.DryRunNone {
		r.rec = nil // a dry run writes nothing, the record included
	}
	if err := a.saveRecord(sctx, r.rec); err != nil {
		a.Progress.Logf("warning: %scannot save the apply record (the next run applies everything): %v", a.prefix(), err)
	}
	rep := a.report(items)
	var failed []ObjectError
	applied := 0
	for _, it := range items {
		switch {
		case it.err != nil:
			failed = append(failed, ObjectError{Ref: Ref(it.obj), Err: it.err})
		case it.result.Action != "":
			applied++
		}
	}
	interrupted := errors.Is(ctx.Err(), context.Canceled)
	if len(failed) > 0 || interrupted && applied < len(items) {
		return rep, &ApplyError{Section: a.Section, Failed: failed, Total: len(items), Applied: applied, Interrupted: interrupted,
			TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded), After: time.Since(start)}
	}
	if set != nil && !a.NoPrune { // only after a successful apply: a failed one prunes nothing
		pruned, err := a.prune(ctx, set, items)
		rep.Add(pruned...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// applyItem applies one object (or skips it as unchanged) and counts it done.
func (a *Applier) applyItem(ctx context.Context, r *applyRun, it *item) {
	defer r.finished(it)
	if a.skip(ctx, r.rec, it) {
		it.skipped = true
		it.result = output.Result{Kind: it.obj.GetKind(), Namespace: it.obj.GetNamespace(), Name: it.obj.GetName(), Action: output.Unchanged}
		if a.DryRun != core.DryRunNone {
			it.result.DryRun = a.DryRun
		}
		return
	}
	if it.err = a.complete(it.obj); it.err != nil {
		return
	}
	if ns := it.obj.GetNamespace(); a.DryRun == core.DryRunServer && r.dryNamespaces[ns] {
		it.result = output.Result{Kind: it.obj.GetKind(), Namespace: ns, Name: it.obj.GetName(),
			Action: output.Created, DryRun: a.DryRun, Detail: "not sent: its namespace is new"}
		a.Diff.Record(nil, it.obj)
		return
	}
	if isCRD(it.obj) && a.DryRun == core.DryRunNone {
		r.crds.start(ctx) // before the first CRD is written, so no Established update is missed
	}
	it.result, it.err = a.applyOne(ctx, it, r.gate)
	if it.err == nil && it.result.Action != output.Unchanged {
		r.changed.Add(1)
	}
	if it.err == nil && isCRD(it.obj) && it.result.Action == output.Created && a.DryRun == core.DryRunNone {
		gk := CRDGroupKind(it.obj)
		plural, _, _ := unstructured.NestedString(it.obj.Object, "spec", "names", "plural")
		a.live.markEmptyResource(schema.GroupResource{Group: gk.Group, Resource: plural})
	}
	if r.rec != nil && it.err == nil && it.hash != "" && it.owned != "" {
		r.rec.set(Ref(it.obj), appliedState{Hash: it.hash, Fields: it.owned})
	}
}

// complete runs Complete on o, when set.
func (a *Applier) complete(o *unstructured.Unstructured) error {
	if a.Complete == nil {
		return nil
	}
	return a.Complete(o)
}

func (a *Applier) prefix() string {
	if a.Section == "" {
		return ""
	}
	return a.Section + ": "
}

func (a *Applier) report(items []*item) *output.Report {
	rep := &output.Report{}
	for _, it := range items {
		if it.err == nil && it.result.Action != "" {
			rep.Add(it.result)
		}
	}
	return rep
}

// prepare labels the object and removes what another owner manages.
func (a *Applier) prepare(o *unstructured.Unstructured) {
	if !a.NoManagedByLabel {
		labels := o.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		if _, set := labels[ManagedByLabel]; !set {
			labels[ManagedByLabel] = FieldManager
			o.SetLabels(labels)
		}
	}
	// The controller-manager owns .rules of aggregated ClusterRoles: applying them would conflict
	// (or fight the aggregation controller) on every run.
	if o.GetKind() == "ClusterRole" && o.GroupVersionKind().Group == "rbac.authorization.k8s.io" {
		if _, ok := o.Object["aggregationRule"]; ok {
			delete(o.Object, "rules")
		}
	}
	dropInjectedCABundles(o)
}

// preparable returns a copy of o that prepare (and labelling it a member) may change without
// changing o: the top level, metadata, webhooks and the CRD conversion that dropInjectedCABundles
// edits are copied, the rest (a CRD's schemas, the bulk of a build) is shared and only read:
// past prepare the engine changes only metadata (namespace, member label). Deep copies of every
// object cost a no-op re-run of Kubeflow a fifth of a second.
func preparable(o *unstructured.Unstructured) *unstructured.Unstructured {
	c := maps.Clone(o.Object)
	for _, k := range []string{"metadata", "webhooks"} {
		if v, ok := c[k]; ok {
			c[k] = runtime.DeepCopyJSONValue(v)
		}
	}
	if spec, ok := c["spec"].(map[string]any); ok {
		spec = maps.Clone(spec)
		if conv, ok := spec["conversion"]; ok {
			spec["conversion"] = runtime.DeepCopyJSONValue(conv)
		}
		c["spec"] = spec
	}
	return &unstructured.Unstructured{Object: c}
}

// mapping resolves the object's REST mapping, defaulting its namespace; a kind not yet served is
// transient (its CRD may still be coming).
func (a *Applier) mapping(o *unstructured.Unstructured) (*meta.RESTMapping, error) {
	gvk := o.GroupVersionKind()
	m, err := a.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			a.ResetMapper()
		}
		return nil, err
	}
	a.scopeNamespace(o, m)
	return m, nil
}

// itemMapping is the item's REST mapping: the one its CRD gave, else the RESTMapper's; it
// defaults the object's namespace.
func (a *Applier) itemMapping(it *item) (*meta.RESTMapping, error) {
	if it.mapping != nil {
		a.scopeNamespace(it.obj, it.mapping)
		return it.mapping, nil
	}
	m, err := a.mapping(it.obj)
	if err == nil {
		it.mapping = m
	}
	return m, err
}

// scopeNamespace defaults a namespaced object's namespace (the kubeconfig context's, else
// "default") and clears a cluster-scoped one's.
func (a *Applier) scopeNamespace(o *unstructured.Unstructured, m *meta.RESTMapping) {
	if m.Scope.Name() == meta.RESTScopeNameNamespace && o.GetNamespace() == "" {
		ns := a.Namespace
		if ns == "" {
			ns = "default"
		}
		o.SetNamespace(ns)
	} else if m.Scope.Name() == meta.RESTScopeNameRoot {
		o.SetNamespace("")
	}
}
