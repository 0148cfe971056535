package kube

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// plan prepares every object and orders them into stages: Namespaces; then CRDs, the other
// objects and last the custom resources of the set's CRDs; then webhook configurations and
// APIServices.
func (a *Applier) plan(objs []*unstructured.Unstructured) ([]*item, [3][]*item) {
	items := make([]*item, len(objs))
	crdOf := map[schema.GroupKind]*item{}
	for i, o := range objs {
		o = preparable(o) // the engine changes metadata only; the caller's objects stay as given
		a.prepare(o)
		items[i] = &item{index: i, obj: o, done: make(chan struct{})}
		if isCRD(o) {
			crdOf[CRDGroupKind(o)] = items[i]
		}
	}
	var stages [3][]*item
	var crds, crs []*item
	for _, it := range items {
		st := stageOf(it.obj)
		switch crd := crdOf[it.obj.GroupVersionKind().GroupKind()]; {
		case isCRD(it.obj):
			crds = append(crds, it)
		case crd != nil && st == 1:
			it.crd = crd
			crs = append(crs, it)
		default:
			stages[st] = append(stages[st], it)
		}
	}
	stages[1] = append(append(crds, stages[1]...), crs...)
	return items, stages
}

// stageOf: 0 Namespaces, 1 the rest, 2 webhook configurations and APIServices.
func stageOf(o *unstructured.Unstructured) int {
	gk := o.GroupVersionKind().GroupKind()
	switch gk {
	case schema.GroupKind{Kind: "Namespace"}:
		return 0
	case schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"},
		schema.GroupKind{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"},
		schema.GroupKind{Group: "apiregistration.k8s.io", Kind: "APIService"}:
		return 2
	}
	return 1
}

// run applies fn to every item with at most a.Parallelism in flight, in order, and closes each
// item's done channel after it. An item with a CRD of the set (it.crd) is first held by hold,
// without a slot; when hold returns false the item is finished without fn.
func (a *Applier) run(ctx context.Context, items []*item, hold func(context.Context, *item) bool, fn func(context.Context, *item)) {
	sem := make(chan struct{}, a.Parallelism)
	var wg sync.WaitGroup
	finish := func(it *item) {
		it.doneOnce.Do(func() { close(it.done) })
		wg.Done()
	}
	var direct []*item
	for _, it := range items {
		if it.crd == nil {
			direct = append(direct, it)
			continue
		}
		wg.Add(1)
		go func() {
			defer finish(it)
			if hold != nil && !hold(ctx, it) {
				return
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			fn(ctx, it)
		}()
	}
	for _, it := range direct {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; finish(it) }()
			fn(ctx, it)
		}()
	}
	wg.Wait()
}

// awaitEstablished waits until every CRD this run created or changed is Established, then
// resets the RESTMapper: callers use the new kinds right after Apply (e.g. helm installing a
// chart's custom resources after its CRDs).
func (a *Applier) awaitEstablished(ctx context.Context, r *applyRun, items []*item) {
	var changed []*item
	for _, it := range items {
		if isCRD(it.obj) && it.err == nil && (it.result.Action == output.Created || it.result.Action == output.Configured) {
			changed = append(changed, it)
		}
	}
	if len(changed) == 0 || a.DryRun != core.DryRunNone {
		return
	}
	a.Progress.Update("%swaiting for %s to be established", a.prefix(), output.Count(len(changed), "CRD"))
	for _, it := range changed {
		if it.err = r.crds.wait(ctx, it.obj.GetName()); it.err != nil && r.rec != nil {
			r.rec.drop(Ref(it.obj)) // applied again next time
		}
	}
	a.ResetMapper()
}

// awaitCRD holds a custom resource, without taking a request slot, until its CRD (of the same
// set) is applied and, when this run created or changed it, Established. The object is mapped
// from that CRD: no discovery round, which lags behind a new CRD. It returns false when the
// object must not be sent: its CRD failed or never became Established, or a dry run would
// create the CRD (the server cannot check objects of a kind it does not serve; they are
// reported as created).
func (a *Applier) awaitCRD(ctx context.Context, r *applyRun, it *item) bool {
	crd := it.crd
	select {
	case <-crd.done:
	case <-ctx.Done():
		it.err = &waitError{For: "CustomResourceDefinition " + crd.obj.GetName(), Err: fmt.Errorf("waiting for CustomResourceDefinition %s: %w", crd.obj.GetName(), ctx.Err())}
		return false
	}
	if crd.err != nil {
		it.err = fmt.Errorf("not applied: its CustomResourceDefinition %s failed", crd.obj.GetName())
		return false
	}
	it.mapping = mappingFromCRD(crd.obj, it.obj.GroupVersionKind())
	if a.DryRun != core.DryRunNone {
		if crd.result.Action != output.Created {
			return true
		}
		a.scopeNamespace(it.obj, it.mapping)
		it.result = output.Result{Kind: it.obj.GetKind(), Namespace: it.obj.GetNamespace(), Name: it.obj.GetName(),
			Action: output.Created, DryRun: a.DryRun, Detail: "not sent: its CRD is new"}
		if a.DryRun == core.DryRunServer {
			a.Diff.Record(nil, it.obj)
		}
		return false
	}
	if crd.result.Action == output.Created || crd.result.Action == output.Configured {
		if err := r.crds.wait(ctx, crd.obj.GetName()); err != nil {
			it.err = err
			return false
		}
	}
	return true
}
