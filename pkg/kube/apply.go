package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Applier converges a set of objects with server-side apply in one pass: Namespaces and CRDs
// first (waiting until every CRD is Established and the RESTMapper knows it), then everything
// else with bounded parallelism (an object a live webhook cannot yet admit waits for the
// webhook's Service to have ready endpoints), then webhook configurations and APIServices, after
// what serves them. Transient
// errors are retried with backoff until ctx ends.
type Applier struct {
	*Clients
	// FieldManager defaults to FieldManager.
	FieldManager string
	// ForceConflicts takes over fields other managers own (kubectl's --force-conflicts).
	ForceConflicts bool
	// DryRun is cmdutil.DryRunNone, DryRunClient or DryRunServer.
	DryRun string
	// Parallelism bounds requests in flight (default 4: measured faster than 32 for big CRDs).
	Parallelism int
	// NoManagedByLabel leaves objects without the app.kubernetes.io/managed-by label.
	NoManagedByLabel bool
	// Progress reports on stderr; nil is silent.
	Progress *output.Progress
	// Section prefixes progress and errors, e.g. "lb".
	Section string
	// SkipUnchanged turns on the fast no-op re-run: objects whose desired state and live
	// resourceVersion are what this section's last apply recorded are reported unchanged without a
	// request (see record). The record is a ConfigMap in kube-system named RecordName(Section).
	SkipUnchanged bool
	// NoWebhookGate: after a failed webhook call, retry at once instead of first waiting for the
	// webhook Service to have ready endpoints. Webhook call failures are still retried as
	// transient until ctx ends, so the apply itself proves the webhook answers. For callers that
	// cannot rely on endpoints being observable.
	NoWebhookGate bool

	live liveIndex
}

// ObjectError is the last reason one object failed.
type ObjectError struct {
	Ref string
	Err error
}

// ApplyError lists every object that failed, each with its last reason.
type ApplyError struct {
	Section string
	Failed  []ObjectError
	Total   int
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	prefix := ""
	if e.Section != "" {
		prefix = e.Section + ": "
	}
	fmt.Fprintf(&b, "%s%d of %d objects failed to apply (what succeeded stays; fix the cause and re-run):", prefix, len(e.Failed), e.Total)
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  - %s: %v", f.Ref, f.Err)
	}
	return b.String()
}

// item is one object on its way through the phases.
type item struct {
	index   int
	obj     *unstructured.Unstructured
	mapping *meta.RESTMapping
	result  output.Result
	err     error
	// hash and appliedRV feed the SkipUnchanged record.
	hash      string
	appliedRV string
	skipped   bool
}

// Apply converges objs and reports one result per object, in input order. On failure the report
// still holds what succeeded and the error is an *ApplyError.
func (a *Applier) Apply(ctx context.Context, objs []*unstructured.Unstructured) (*output.Report, error) {
	if a.FieldManager == "" {
		a.FieldManager = FieldManager
	}
	if a.Parallelism <= 0 {
		a.Parallelism = 4
	}
	if a.DryRun == "" {
		a.DryRun = cmdutil.DryRunNone
	}
	items := make([]*item, len(objs))
	var phases [3][]*item
	for i, o := range objs {
		o = o.DeepCopy()
		a.prepare(o)
		it := &item{index: i, obj: o}
		items[i] = it
		phases[phaseOf(o)] = append(phases[phaseOf(o)], it)
	}
	done := atomic.Int32{}
	total := len(items)
	progress := func() {
		a.Progress.Update("%sapplied %d/%d objects", a.prefix(), done.Load(), total)
	}
	gate := newWebhookGate(a.Clients, objs)
	var rec *record
	if a.SkipUnchanged && a.DryRun == cmdutil.DryRunNone {
		rec = a.loadRecord(ctx)
	}
	for p, phase := range phases {
		if len(phase) == 0 {
			continue
		}
		a.run(ctx, phase, func(ctx context.Context, it *item) {
			if a.skip(ctx, rec, it) {
				it.skipped = true
				it.result = output.Result{Kind: it.obj.GetKind(), Namespace: it.obj.GetNamespace(), Name: it.obj.GetName(), Action: output.Unchanged}
				done.Add(1)
				progress()
				return
			}
			it.result, it.err = a.applyOne(ctx, it, gate)
			if rec != nil && it.err == nil && it.hash != "" && it.appliedRV != "" {
				rec.set(Ref(it.obj), appliedState{Hash: it.hash, RV: it.appliedRV})
			}
			done.Add(1)
			progress()
		})
		if p == 0 && a.DryRun == cmdutil.DryRunNone {
			if err := a.waitCRDsEstablished(ctx, phase); err != nil {
				return a.report(items), err
			}
			a.ResetMapper()
		}
	}
	a.Progress.Done()
	a.refresh(ctx, rec, items)
	if err := a.saveRecord(ctx, rec); err != nil {
		a.Progress.Logf("warning: %scannot save the apply record (the next run applies everything): %v", a.prefix(), err)
	}
	rep := a.report(items)
	var failed []ObjectError
	for _, it := range items {
		if it.err != nil {
			failed = append(failed, ObjectError{Ref: Ref(it.obj), Err: it.err})
		}
	}
	if len(failed) > 0 {
		return rep, &ApplyError{Section: a.Section, Failed: failed, Total: total}
	}
	return rep, nil
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

// run applies fn to every item with at most a.Parallelism in flight.
func (a *Applier) run(ctx context.Context, items []*item, fn func(context.Context, *item)) {
	sem := make(chan struct{}, a.Parallelism)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(ctx, it)
		}()
	}
	wg.Wait()
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
}

// phaseOf: 0 Namespaces and CRDs, 1 the rest, 2 webhook configurations and APIServices.
func phaseOf(o *unstructured.Unstructured) int {
	gk := o.GroupVersionKind().GroupKind()
	switch gk {
	case schema.GroupKind{Kind: "Namespace"}, schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}:
		return 0
	case schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"},
		schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
		schema.GroupKind{Group: "apiregistration.k8s.io", Kind: "APIService"}:
		return 2
	}
	return 1
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
	if m.Scope.Name() == meta.RESTScopeNameNamespace && o.GetNamespace() == "" {
		ns := a.Namespace
		if ns == "" {
			ns = "default"
		}
		o.SetNamespace(ns)
	} else if m.Scope.Name() == meta.RESTScopeNameRoot {
		o.SetNamespace("")
	}
	return m, nil
}

// SortedRefs returns refs of objs, sorted, for messages.
func SortedRefs(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, Ref(o))
	}
	sort.Strings(out)
	return out
}

// conflictError explains a server-side apply conflict the way kubectl's remedy goes.
func conflictError(err error) error {
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%v\n    another field manager owns these fields; to take them over re-run with --force-conflicts (like kubectl apply --server-side --force-conflicts), or remove them from the other tool's configuration", err)
	}
	return err
}
