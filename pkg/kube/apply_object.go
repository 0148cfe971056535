package kube

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/equality"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// applyOne applies one object, retrying transient errors until ctx ends, and says whether it was
// created, configured or unchanged.
//
// When a live admission webhook cannot be called, the wait is announced and the apply retried
// with backoff until the webhook answers (see webhookGate); if it never does, the error names
// the webhook and its Service. An apply that succeeds needs no webhook check at all (admission
// webhooks may be off).
func (a *Applier) applyOne(ctx context.Context, it *item, gate *webhookGate) (output.Result, error) {
	o := it.obj
	res := output.Result{Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
	if a.DryRun != core.DryRunNone {
		res.DryRun = a.DryRun
	}
	var out output.Result
	var resource string // set when a webhook call failed: the resource the gate explains
	err := Retry(ctx, func(ctx context.Context) error {
		m, err := a.itemMapping(it)
		if err != nil {
			if a.DryRun == core.DryRunClient && meta.IsNoMatchError(err) {
				// Client dry-run: a kind whose CRD is in the same set is not served yet.
				res.Namespace = o.GetNamespace()
				res.Action = output.Created
				a.Diff.Record(nil, o)
				out = res
				return nil
			}
			return err
		}
		res.Namespace = o.GetNamespace()
		ri := a.resource(m.Resource, o.GetNamespace())
		live, err := a.live.get(ctx, a.Clients, m.Resource, o.GetNamespace(), o.GetName())
		if err != nil {
			return a.forgetStaleMapping(it, err)
		}
		if live != nil && a.DryRun == core.DryRunServer {
			// A dry run keeps the resourceVersion: compare content with the full live object.
			if live, err = ri.Get(ctx, o.GetName(), metav1.GetOptions{}); err != nil && !k8serrors.IsNotFound(err) {
				return err
			} else if err != nil {
				live = nil
			}
		}
		if a.DryRun == core.DryRunClient {
			res.Action = output.Created
			if live != nil {
				res.Action = output.Configured
			}
			a.Diff.Record(live, o) // the object as it would be sent
			out = res
			return nil
		}
		opts := metav1.ApplyOptions{FieldManager: a.FieldManager, Force: a.ForceConflicts || it.adopt != nil && it.adopt.force}
		var hand []string // hand tools' managers of an object this manager never applied
		if live != nil && !appliedBy(live.GetManagedFields(), a.FieldManager) {
			hand = handManagersOf(live.GetManagedFields())
		}
		if live != nil && a.SkipUnchanged && !a.ForceApply && a.DryRun == core.DryRunNone {
			// Some servers (Kubernetes <= 1.21) write on a no-op apply; a dry run first tells.
			if same, owned := a.unchangedByApply(ctx, ri, o, opts); same {
				res.Action = output.Unchanged
				it.owned = owned
				out = res
				return nil
			}
		}
		if a.DryRun == core.DryRunServer {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		applied, created, err := a.applyRequest(ctx, m.Resource, o, opts)
		if err != nil && a.TakeBack && !opts.Force && k8serrors.IsConflict(err) {
			// Someone changed a field this section owns: the section's flags are the truth, so
			// the field is taken back, and the user told who had changed it.
			verb := "took back"
			if a.DryRun != core.DryRunNone {
				verb = "would take back"
			}
			a.Progress.Logf("%snote: %s %s: %s %s", a.prefix(), strings.ToLower(o.GetKind()), nameOf(o), verb, conflictFields(err))
			opts.Force = true
			applied, created, err = a.applyRequest(ctx, m.Resource, o, opts)
		}
		if err != nil && isWebhookCallError(err) && gate != nil {
			resource = m.Resource.Resource
			gate.announce(err, o, a.Progress)
		}
		if err != nil {
			return conflictError(a.forgetStaleMapping(it, err))
		}
		res.Action = actionOf(live, applied, created, a.DryRun == core.DryRunServer)
		if a.DryRun == core.DryRunServer {
			a.Diff.Record(live, applied)
		}
		if len(hand) > 0 {
			it.adoptedFrom = hand
			res.Detail = "adopted from " + strings.Join(hand, ", ")
			if a.DryRun == core.DryRunNone {
				if err := a.releaseShared(ctx, m.Resource, applied); err != nil {
					return err
				}
			}
		}
		it.owned = ownedFields(applied.GetManagedFields(), a.FieldManager)
		out = res
		return nil
	})
	if err != nil && resource != "" && isWebhookCallError(err) {
		err = gate.explain(o, resource, err)
	}
	if err != nil {
		return res, err
	}
	return out, nil
}

// forgetStaleMapping returns err; when err says the server does not serve the item's resource at
// all and the item was mapped by the RESTMapper (not from a CRD of the same set), the mapping may
// come from a stale discovery cache (kubectl's disk cache is keyed by the server's address and
// kept for hours: a cluster rebuilt at the same address, or a CRD deleted since), so the mapping
// and the mapper's discovery are forgotten and the retry maps the kind anew: a kind no longer
// served then fails as not found (a client dry run shows it as created), one still served maps
// to its current resource.
func (a *Applier) forgetStaleMapping(it *item, err error) error {
	if it.crd == nil && it.mapping != nil && notServedYet(err) {
		it.mapping = nil
		a.ResetMapper()
	}
	return err
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

// actionOf compares the live object before the apply with the result. The server says whether
// it created the object (HTTP 201); live is nil where the object did not exist or its scope was
// not listed (a namespace or CRD this run created). A real apply that changed nothing keeps the
// resourceVersion; a dry run keeps it either way, so content is compared.
func actionOf(live, applied *unstructured.Unstructured, created, dryRun bool) string {
	if !dryRun {
		switch {
		case created, live == nil:
			// Absent when this run looked, present now: a retried request whose first attempt
			// created it (its answer lost to a dropped connection) gets 200, not 201, yet this
			// run made the object.
			return output.Created
		case live.GetResourceVersion() == applied.GetResourceVersion():
			return output.Unchanged
		}
		return output.Configured
	}
	if live == nil {
		return output.Created
	}
	if apierrors.Semantic.DeepEqual(comparable(live), comparable(applied)) {
		return output.Unchanged
	}
	return output.Configured
}

// comparable strips what the server changes on every write (see diff.Clean).
func comparable(u *unstructured.Unstructured) map[string]any {
	return diff.Clean(u).Object
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
// returns the hash of the field set our apply owns on it.
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
	return apierrors.Semantic.DeepEqual(comparable(full), comparable(dry)), ownedFields(full.GetManagedFields(), a.FieldManager)
}

// metadataOnly asks the API server to answer with the object's metadata alone: a real apply
// needs only the resourceVersion and managedFields back, and encoding whole objects (CRDs are
// large) is API server CPU that every other request of the run waits for.
const metadataOnly = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

// applyRequest sends one server-side apply and tells whether the server created the object
// (HTTP 201 rather than 200), which needs no prior look at the live object. A real apply gets
// only the metadata back (see metadataOnly); a dry run gets the whole object, to compare.
func (a *Applier) applyRequest(ctx context.Context, gvr schema.GroupVersionResource, o *unstructured.Unstructured, opts metav1.ApplyOptions) (*unstructured.Unstructured, bool, error) {
	a.rawOnce.Do(func() {
		a.raw, a.rawErr = rest.UnversionedRESTClientFor(dynamic.ConfigFor(a.Config))
	})
	if a.rawErr != nil {
		return nil, false, a.rawErr
	}
	body, err := o.MarshalJSON()
	if err != nil {
		return nil, false, err
	}
	patch := opts.ToPatchOptions()
	send := func(accept string) (int, []byte, error) {
		req := a.raw.Patch(types.ApplyPatchType).
			AbsPath(urlSegments(gvr, o.GetNamespace(), o.GetName())...).
			Body(body).
			SpecificallyVersionedParams(&patch, metav1.ParameterCodec, metav1.SchemeGroupVersion)
		if accept != "" {
			req.SetHeader("Accept", accept)
		}
		result := req.Do(ctx)
		var code int
		result.StatusCode(&code)
		if err := result.Error(); err != nil { // the server's Status, decoded
			return code, nil, err
		}
		raw, err := result.Raw()
		return code, raw, err
	}
	accept := ""
	if len(opts.DryRun) == 0 && !a.noMetadataOnly.Load() {
		accept = metadataOnly
	}
	code, raw, err := send(accept)
	if accept != "" && code == http.StatusNotAcceptable {
		a.noMetadataOnly.Store(true) // a server without the transformation: whole objects
		code, raw, err = send("")
	}
	if err != nil {
		return nil, false, err
	}
	applied := &unstructured.Unstructured{}
	if err := applied.UnmarshalJSON(raw); err != nil {
		return nil, false, err
	}
	return applied, code == http.StatusCreated, nil
}

// urlSegments is the REST path of one object, as the dynamic client builds it.
func urlSegments(gvr schema.GroupVersionResource, ns, name string) []string {
	s := []string{"apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		s = []string{"api", gvr.Version}
	}
	if ns != "" {
		s = append(s, "namespaces", ns)
	}
	return append(s, gvr.Resource, name)
}

// nameOf is namespace/name, or name for a cluster-scoped object.
func nameOf(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}

// conflictFields says which fields an apply conflict is about and who else manages them, from
// the API server's causes (`conflict with "kubectl-edit" using v1: .spec.addresses`).
func conflictFields(err error) string {
	var parts []string
	if st, ok := err.(k8serrors.APIStatus); ok && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			parts = append(parts, fmt.Sprintf("%s (changed by %s)", c.Field, strings.TrimPrefix(c.Message, "conflict with ")))
		}
	}
	if len(parts) == 0 {
		return "fields another field manager changed: " + err.Error()
	}
	return strings.Join(parts, ", ")
}

// conflictError explains a server-side apply conflict the way kubectl's remedy goes.
func conflictError(err error) error {
	if k8serrors.IsConflict(err) {
		return fmt.Errorf("%v\n    another field manager owns these fields; to take them over re-run with --force-conflicts (like kubectl apply --server-side --force-conflicts), or remove them from the other tool's configuration", err)
	}
	return err
}
