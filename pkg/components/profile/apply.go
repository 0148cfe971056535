package profile

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Installer applies and removes the PodDefault in profile namespaces.
type Installer struct {
	Clients  *kube.Clients
	Progress *output.Progress
	// DryRun is core.DryRunNone, DryRunClient or DryRunServer.
	DryRun core.DryRunStrategy
	// Wait gives Profiles without a namespace NamespaceGrace to get one (--all-profiles).
	Wait bool
}

// Ours tells whether this command manages a live PodDefault: it carries
// app.kubernetes.io/managed-by=kubectl-flexigrobots. A PodDefault access-ml-pipeline made by
// anyone else (kubectl apply of the runbook's file, another tool) is left as it is.
func Ours(o metav1.Object) bool { return o.GetLabels()[kube.ManagedByLabel] == kube.FieldManager }

// appliedByUs tells whether our field manager has applied fields of the object.
func appliedByUs(o metav1.Object) bool {
	for _, e := range o.GetManagedFields() {
		if e.Manager == kube.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// LivePodDefaults returns every PodDefault named access-ml-pipeline, by namespace, from one LIST
// across all namespaces.
func (in *Installer) LivePodDefaults(ctx context.Context) (map[string]*unstructured.Unstructured, error) {
	var list *unstructured.UnstructuredList
	err := kube.Retry(ctx, func(ctx context.Context) error {
		var err error
		list, err = in.Clients.Dynamic.Resource(PodDefaultsGVR).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", PodDefaultName).String()})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("profile: list PodDefaults %s: %w", PodDefaultName, err)
	}
	out := make(map[string]*unstructured.Unstructured, len(list.Items))
	for i := range list.Items {
		out[list.Items[i].GetNamespace()] = &list.Items[i]
	}
	return out, nil
}

// upToDate tells whether applying the runbook's object to live would change nothing: we manage
// it, our apply owns fields of it, and its spec is the runbook's.
func upToDate(live *unstructured.Unstructured) bool {
	if !Ours(live) || !appliedByUs(live) {
		return false
	}
	spec, _, _ := unstructured.NestedFieldNoCopy(live.Object, "spec")
	return apiequality.Semantic.DeepEqual(normalize(spec), normalize(DesiredSpec()))
}

// normalize turns numbers into int64 where whole, so int64 and float64 decodings compare equal.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case int:
		return int64(x)
	case int32:
		return int64(x)
	}
	return v
}

// Apply gives every target namespace the runbook's PodDefault and reports one result per
// namespace, in target order. One LIST of the live PodDefaults decides what to send: those
// already as the runbook's (and ours) are reported unchanged without a request, those someone
// else made are left alone (reported with a note), the rest go through the apply engine
// (server-side apply, field manager kubectl-flexigrobots, taking over fields others changed).
// live may be nil; it is then listed. Targets without the webhook's label get a warning.
func (in *Installer) Apply(ctx context.Context, targets []Target, live map[string]*unstructured.Unstructured) (*output.Report, error) {
	if live == nil {
		var err error
		if live, err = in.LivePodDefaults(ctx); err != nil {
			return &output.Report{}, err
		}
	}
	rep := &output.Report{}
	byNS := map[string]output.Result{}
	var send []*unstructured.Unstructured
	for _, t := range targets {
		if !t.WebhookLabel {
			in.Progress.Logf("warning: profile: namespace %s lacks the label %s=%s: Kubeflow's admission webhook does not apply PodDefaults there, so its pods get no pipelines token (kubectl label namespace %s %s=%s)",
				t.Namespace, WebhookLabel, WebhookLabelValue, t.Namespace, WebhookLabel, WebhookLabelValue)
		}
		l := live[t.Namespace]
		switch {
		case l != nil && !Ours(l):
			detail := "not managed by " + kube.FieldManager + ", left as it is"
			if d := SpecDifference(l); d != "" {
				in.Progress.Logf("warning: profile: PodDefault %s/%s was made by someone else and differs from the runbook's: %s; to let this command manage it: kubectl label poddefault -n %s %s %s=%s, then re-run",
					t.Namespace, PodDefaultName, d, t.Namespace, PodDefaultName, kube.ManagedByLabel, kube.FieldManager)
			}
			byNS[t.Namespace] = in.result(t.Namespace, output.Unchanged, detail)
		case l != nil && upToDate(l):
			byNS[t.Namespace] = in.result(t.Namespace, output.Unchanged, "")
		default:
			send = append(send, DesiredPodDefault(t.Namespace))
		}
	}
	var applyErr error
	if len(send) > 0 {
		a := &kube.Applier{Clients: in.Clients, DryRun: in.DryRun, Progress: in.Progress, Section: "profile", ForceConflicts: true}
		applied, err := a.Apply(ctx, send)
		applyErr = err
		for _, r := range applied.Results {
			r.Kind = ResultKind
			byNS[r.Namespace] = r
		}
	}
	for _, t := range targets {
		if r, ok := byNS[t.Namespace]; ok {
			rep.Add(r)
		}
	}
	return rep, applyErr
}

func (in *Installer) result(ns, action, detail string) output.Result {
	r := output.Result{Kind: ResultKind, Namespace: ns, Name: PodDefaultName, Action: action, Detail: detail}
	if in.DryRun.Active() {
		r.DryRun = in.DryRun
	}
	return r
}

// Remove deletes the PodDefault access-ml-pipeline from the target namespaces where this command
// manages it (our managed-by label and our field manager); one made by anyone else is left and
// reported so. Namespaces without one are skipped silently.
func (in *Installer) Remove(ctx context.Context, targets []Target) (*output.Report, error) {
	live, err := in.LivePodDefaults(ctx)
	if err != nil {
		return &output.Report{}, err
	}
	rep := &output.Report{}
	for _, t := range targets {
		l := live[t.Namespace]
		if l == nil {
			continue
		}
		if !Ours(l) || !appliedByUs(l) {
			rep.Add(in.result(t.Namespace, output.Unchanged, "not managed by "+kube.FieldManager+", left in place"))
			continue
		}
		if in.DryRun == core.DryRunClient {
			rep.Add(in.result(t.Namespace, output.Deleted, ""))
			continue
		}
		uid := l.GetUID()
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
		if in.DryRun == core.DryRunServer {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		err := kube.Retry(ctx, func(ctx context.Context) error {
			return in.Clients.Dynamic.Resource(PodDefaultsGVR).Namespace(t.Namespace).Delete(ctx, PodDefaultName, opts)
		})
		if err != nil && !apierrors.IsNotFound(err) {
			return rep, fmt.Errorf("profile: delete PodDefault %s/%s: %w", t.Namespace, PodDefaultName, err)
		}
		if in.DryRun == core.DryRunServer {
			in.Clients.Diff.Record(l, nil)
		}
		rep.Add(in.result(t.Namespace, output.Deleted, ""))
	}
	return rep, nil
}
