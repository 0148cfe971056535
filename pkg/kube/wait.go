package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/kubectl/pkg/polymorphichelpers"
	kstatus "sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Target is what to wait for: one object (Name), or every object of the kind in Namespace
// (optionally matching Selector).
type Target struct {
	// GVR is the resource; built-in kinds have helpers (Deployments, Pods ...).
	GVR       schema.GroupVersionResource
	Namespace string
	Name      string
	Selector  string
	// Condition, for custom resources: ready when status.conditions has this type with "True".
	Condition string
	// Except names objects of a kind-wide target not to wait for.
	Except []string
	// Names, instead of Name, waits for these objects of the kind in Namespace (one LIST a poll;
	// one not there yet is not ready).
	Names []string
}

// Common resources.
var (
	DeploymentsGVR  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	StatefulSetsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	DaemonSetsGVR   = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
	PodsGVR         = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	JobsGVR         = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	PVCsGVR         = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
	ServicesGVR     = schema.GroupVersionResource{Version: "v1", Resource: "services"}
)

// Workloads returns targets for every Deployment, StatefulSet and DaemonSet in the namespaces.
func Workloads(namespaces ...string) []Target {
	var out []Target
	for _, ns := range namespaces {
		for _, gvr := range []schema.GroupVersionResource{DeploymentsGVR, StatefulSetsGVR, DaemonSetsGVR} {
			out = append(out, Target{GVR: gvr, Namespace: ns})
		}
	}
	return out
}

// Waiter polls targets until all are ready, reporting progress on stderr.
type Waiter struct {
	Clients  *Clients
	Progress *output.Progress
	// Label prefixes progress lines, e.g. "kubeflow".
	Label string
	// Interval between polls (default 1s).
	Interval time.Duration
}

// status of one object.
type status struct {
	ref    string
	ready  bool
	reason string
	// selector and namespace of a workload's pods, for the timeout explanation.
	podSelector string
	namespace   string
}

// Wait returns nil once every target is ready. When ctx ends first, the error lists what is not
// ready and why (pod phase, container waiting reason, last event).
func (w *Waiter) Wait(ctx context.Context, targets []Target) error {
	interval := w.Interval
	if interval == 0 {
		interval = time.Second
	}
	var last []status
	var lastErr error
	err := wait.PollUntilContextCancel(ctx, interval, true, func(ctx context.Context) (bool, error) {
		st, err := w.poll(ctx, targets)
		if err != nil && ctx.Err() != nil {
			// The deadline cut this poll short: keep the previous one for the explanation.
			return false, nil
		}
		last, lastErr = st, err
		if lastErr != nil {
			w.Progress.Update("%s: waiting (%v)", w.Label, lastErr)
			return false, nil
		}
		ready := 0
		for _, s := range last {
			if s.ready {
				ready++
			}
		}
		w.Progress.Update("%s: %d/%d ready", w.Label, ready, len(last))
		return ready == len(last), nil
	})
	w.Progress.Done()
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted (Ctrl-C): no explanation, which would spend up to 15 s on API calls.
		return fmt.Errorf("%s: wait stopped: %w", w.Label, context.Cause(ctx))
	}
	return w.explain(last, lastErr, err)
}

func (w *Waiter) poll(ctx context.Context, targets []Target) ([]status, error) {
	each := make([][]status, len(targets))
	g, gctx := errgroup.WithContext(ctx)
	// As many reads at once as the engine's applies (a section waits on a few kinds in each of
	// its namespaces; read one after another they made a settled re-run wait on ~20 round trips).
	g.SetLimit(DefaultParallelism)
	for i, t := range targets {
		g.Go(func() error {
			st, err := w.pollTarget(gctx, t)
			each[i] = st
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return slices.Concat(each...), nil // in the targets' order, as before
}

// pollTarget reads one target's objects and evaluates each.
func (w *Waiter) pollTarget(ctx context.Context, t Target) ([]status, error) {
	var out []status
	items, typed, err := workloadItems(ctx, w.Clients, t)
	if !typed {
		items, err = dynamicItems(ctx, w.Clients.Dynamic.Resource(t.GVR).Namespace(t.Namespace), t)
	}
	if err != nil && t.Name != "" {
		return []status{{ref: t.GVR.Resource + "/" + t.Name, reason: err.Error()}}, nil
	}
	if err != nil {
		return nil, err
	}
	if t.Name == "" && len(t.Names) > 0 {
		items = slices.DeleteFunc(items, func(u unstructured.Unstructured) bool { return !slices.Contains(t.Names, u.GetName()) })
		for _, n := range t.Names {
			if !slices.ContainsFunc(items, func(u unstructured.Unstructured) bool { return u.GetName() == n }) {
				out = append(out, status{ref: t.GVR.Resource + "/" + n, namespace: t.Namespace, reason: "not found"})
			}
		}
	}
	for i := range items {
		if slices.Contains(t.Except, items[i].GetName()) {
			continue
		}
		out = append(out, evaluate(&items[i], t))
	}
	return out, nil
}

// dynamicItems reads the target's object (Name) or objects through the dynamic client.
func dynamicItems(ctx context.Context, ri dynamic.ResourceInterface, t Target) ([]unstructured.Unstructured, error) {
	if t.Name != "" {
		u, err := ri.Get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return []unstructured.Unstructured{*u}, nil
	}
	list, err := ri.List(ctx, metav1.ListOptions{LabelSelector: t.Selector})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// rolloutView is the part of a Deployment, StatefulSet or DaemonSet that kubectl's rollout
// status viewers read (name, generation, replicas, update strategy, status), sharing u's values:
// the viewers convert the object to its typed form, and converting the pod template and the
// managed fields of every workload cost a settled re-run's one poll more than its requests.
func rolloutView(u *unstructured.Unstructured) *unstructured.Unstructured {
	md := map[string]any{"name": u.GetName(), "namespace": u.GetNamespace(), "generation": u.GetGeneration()}
	view := map[string]any{"apiVersion": u.GetAPIVersion(), "kind": u.GetKind(), "metadata": md}
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		s := map[string]any{}
		for _, k := range []string{"replicas", "updateStrategy"} {
			if v, ok := spec[k]; ok {
				s[k] = v
			}
		}
		view["spec"] = s
	}
	if st, ok := u.Object["status"]; ok {
		view["status"] = st
	}
	return &unstructured.Unstructured{Object: view}
}

// evaluate tells whether one object is ready and, if not, why.
func evaluate(u *unstructured.Unstructured, t Target) status {
	s := status{ref: strings.ToLower(u.GetKind()) + "/" + u.GetName(), namespace: u.GetNamespace()}
	if u.GetNamespace() != "" {
		s.ref = u.GetNamespace() + "/" + s.ref
	}
	gk := u.GroupVersionKind().GroupKind()
	if viewer, err := polymorphichelpers.StatusViewerFor(gk); err == nil && t.Condition == "" {
		msg, done, err := viewer.Status(rolloutView(u), 0)
		s.ready = done && err == nil
		s.reason = strings.TrimSpace(msg)
		if err != nil {
			s.reason = err.Error()
		}
		if sel, found, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels"); found {
			s.podSelector = labelsString(sel)
		}
		return s
	}
	switch {
	case t.Condition != "":
		s.ready = conditionTrue(u, t.Condition)
		s.reason = "condition " + t.Condition + " not True"
	case gk.Kind == "Pod":
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		s.ready = phase == "Succeeded" || conditionTrue(u, "Ready")
		s.reason = "phase " + phase + podWaitingReason(u)
	case gk.Kind == "PersistentVolumeClaim":
		phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
		s.ready = phase == "Bound"
		s.reason = "phase " + phase
	case gk.Kind == "Service":
		typ, _, _ := unstructured.NestedString(u.Object, "spec", "type")
		ingress, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
		s.ready = typ != "LoadBalancer" || len(ingress) > 0
		s.reason = "no external IP yet"
	default:
		// Any other kind (Jobs, Certificates, Profiles, custom resources): kstatus's generic rules,
		// as kubectl's ApplySet tooling and kpt use them: the controller has observed the latest
		// generation, no Reconciling or Stalled condition, Ready (where it has one) True.
		res, err := kstatus.Compute(u)
		switch {
		case err != nil:
			s.reason = err.Error()
		default:
			s.ready = res.Status == kstatus.CurrentStatus
			s.reason = strings.ToLower(string(res.Status))
			if res.Message != "" {
				s.reason += ": " + res.Message
			}
		}
	}
	return s
}

// CustomResourceTargets are wait targets for the objects of objs that changed (created or
// configured, as changed tells) and whose kind a CRD of objs defines, or that are Jobs: the kinds
// whose readiness the workload waits do not cover. One target per kind and namespace.
func CustomResourceTargets(objs []*unstructured.Unstructured, changed func(*unstructured.Unstructured) bool) []Target {
	crds := map[schema.GroupKind]*unstructured.Unstructured{}
	for _, o := range objs {
		if isCRD(o) {
			crds[CRDGroupKind(o)] = o
		}
	}
	type key struct {
		gvr schema.GroupVersionResource
		ns  string
	}
	byKey := map[key]*Target{}
	var order []key
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		var gvr schema.GroupVersionResource
		switch crd, ok := crds[gvk.GroupKind()]; {
		case ok:
			gvr = mappingFromCRD(crd, gvk).Resource
		case gvk.Group == "batch" && gvk.Kind == "Job":
			gvr = JobsGVR
		default:
			continue
		}
		if !changed(o) {
			continue
		}
		k := key{gvr, o.GetNamespace()}
		t, ok := byKey[k]
		if !ok {
			t = &Target{GVR: gvr, Namespace: o.GetNamespace()}
			byKey[k] = t
			order = append(order, k)
		}
		t.Names = append(t.Names, o.GetName())
	}
	out := make([]Target, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

func podWaitingReason(u *unstructured.Unstructured) string {
	statuses, _, _ := unstructured.NestedSlice(u.Object, "status", "containerStatuses")
	for _, c := range statuses {
		m, _ := c.(map[string]any)
		if reason, ok, _ := unstructured.NestedString(m, "state", "waiting", "reason"); ok {
			msg, _, _ := unstructured.NestedString(m, "state", "waiting", "message")
			return fmt.Sprintf(", container %v waiting: %s %s", m["name"], reason, msg)
		}
	}
	return ""
}

func labelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
