package kube

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/equality"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// applyOne applies one object, retrying transient errors until ctx ends, and says whether it was
// created, configured or unchanged.
//
// When a live admission webhook cannot be called, the object is held until the webhook's
// Service has a ready endpoint (so a webhook still starting is waited for, not hammered), then
// retried; if the Service never gets one, the error names the webhook and its Service. An apply
// that succeeds needs no webhook check at all (admission webhooks may be off).
func (a *Applier) applyOne(ctx context.Context, it *item, gate *webhookGate) (output.Result, error) {
	o := it.obj
	res := output.Result{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
	if a.DryRun != cmdutil.DryRunNone {
		res.DryRun = a.DryRun
	}
	var out output.Result
	err := Retry(ctx, func(ctx context.Context) error {
		m, err := a.mapping(o)
		if err != nil {
			if a.DryRun == cmdutil.DryRunClient && meta.IsNoMatchError(err) {
				// Client dry-run: a kind whose CRD is in the same set is not served yet.
				res.Namespace = o.GetNamespace()
				res.Action = output.Created
				out = res
				return nil
			}
			return err
		}
		it.mapping = m
		res.Namespace = o.GetNamespace()
		ri := a.resource(m.Resource, o.GetNamespace())
		live, err := a.live.get(ctx, a.Clients, m.Resource, o.GetNamespace(), o.GetName())
		if err != nil {
			return err
		}
		if live != nil && a.DryRun == cmdutil.DryRunServer {
			// A dry run keeps the resourceVersion: compare content with the full live object.
			if live, err = ri.Get(ctx, o.GetName(), metav1.GetOptions{}); err != nil && !k8serrors.IsNotFound(err) {
				return err
			} else if err != nil {
				live = nil
			}
		}
		if a.DryRun == cmdutil.DryRunClient {
			res.Action = output.Created
			if live != nil {
				res.Action = output.Configured
			}
			out = res
			return nil
		}
		opts := metav1.ApplyOptions{FieldManager: a.FieldManager, Force: a.ForceConflicts}
		if live != nil && a.SkipUnchanged && a.DryRun == cmdutil.DryRunNone {
			// Some servers (Kubernetes <= 1.21) write on a no-op apply; a dry run first tells.
			if same, rv := a.unchangedByApply(ctx, ri, o, opts); same {
				res.Action = output.Unchanged
				it.appliedRV = rv
				out = res
				return nil
			}
		}
		if a.DryRun == cmdutil.DryRunServer {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		applied, err := ri.Apply(ctx, o.GetName(), o, opts)
		if err != nil && isWebhookCallError(err) && gate != nil && !a.NoWebhookGate {
			if gerr := gate.waitFor(ctx, o, m.Resource.Resource, a.Progress); gerr != nil {
				return fmt.Errorf("%w (last apply: %v)", gerr, err)
			}
		}
		if err != nil {
			return conflictError(err)
		}
		res.Action = actionOf(live, applied, a.DryRun == cmdutil.DryRunServer)
		it.appliedRV = applied.GetResourceVersion()
		out = res
		return nil
	})
	if err != nil {
		return res, err
	}
	return out, nil
}

// isWebhookCallError tells whether the API server could not call an admission webhook.
func isWebhookCallError(err error) bool {
	return strings.Contains(err.Error(), "failed calling webhook")
}

func (a *Applier) resource(gvr schema.GroupVersionResource, ns string) dynamic.ResourceInterface {
	if ns == "" {
		return a.Dynamic.Resource(gvr)
	}
	return a.Dynamic.Resource(gvr).Namespace(ns)
}

// actionOf compares the live object before the apply with the result. A real apply that changed
// nothing keeps the resourceVersion; a dry run keeps it either way, so content is compared.
func actionOf(live, applied *unstructured.Unstructured, dryRun bool) string {
	if live == nil {
		return output.Created
	}
	if !dryRun {
		if live.GetResourceVersion() == applied.GetResourceVersion() {
			return output.Unchanged
		}
		return output.Configured
	}
	if apierrors.Semantic.DeepEqual(comparable(live), comparable(applied)) {
		return output.Unchanged
	}
	return output.Configured
}

// comparable strips what the server changes on every write: managedFields, resourceVersion,
// generation, timestamps and status.
func comparable(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	delete(c, "status")
	if md, ok := c["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "generation", "creationTimestamp", "uid", "selfLink"} {
			delete(md, k)
		}
	}
	return c
}

// waitCRDsEstablished waits until every CRD among items reports Established.
func (a *Applier) waitCRDsEstablished(ctx context.Context, items []*item) error {
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	var pending []string
	for _, it := range items {
		// A skipped CRD is unchanged since an apply after which it was established.
		if it.err == nil && !it.skipped && it.obj.GetKind() == "CustomResourceDefinition" {
			pending = append(pending, it.obj.GetName())
		}
	}
	if len(pending) == 0 {
		return nil
	}
	a.Progress.Update("%swaiting for %d CRDs to be established", a.prefix(), len(pending))
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var still []string
		for _, name := range pending {
			crd, err := a.Dynamic.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !conditionTrue(crd, "Established") {
				still = append(still, name)
			}
		}
		pending = still
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%sCRDs not established: %v: %w", a.prefix(), pending, err)
	}
	return nil
}

// conditionTrue tells whether status.conditions has type t with status "True".
func conditionTrue(u *unstructured.Unstructured, t string) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == t && m["status"] == "True" {
			return true
		}
	}
	return false
}

// unchangedByApply tells whether applying o would leave the live object's content as it is
// (compared without managedFields, resourceVersion, generation, timestamps and status), and
// returns the live resourceVersion.
func (a *Applier) unchangedByApply(ctx context.Context, ri dynamic.ResourceInterface, o *unstructured.Unstructured, opts metav1.ApplyOptions) (bool, string) {
	opts.DryRun = []string{metav1.DryRunAll}
	dry, err := ri.Apply(ctx, o.GetName(), o, opts)
	if err != nil {
		return false, ""
	}
	full, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		return false, ""
	}
	return apierrors.Semantic.DeepEqual(comparable(full), comparable(dry)), full.GetResourceVersion()
}
