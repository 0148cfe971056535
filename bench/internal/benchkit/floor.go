package benchkit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
)

// floorManager is the field manager of the floor's applies.
const floorManager = "floor"

// floorPause is the floor's wait before it re-applies what failed (custom resources whose CRD is
// not established yet): short, so it waits little longer than the API server takes.
const floorPause = 100 * time.Millisecond

// TimeFloor times the least an apply of objs can cost on the test bed: a blind server-side apply
// (every object in parallel, parallelism in flight, no ordering, no preflight, no gate; what
// failed is re-applied floorPause later, pass after pass) on a fresh bed where every admission webhook the
// set registers already answers. To get there, the bed is first given, untimed, the webhook
// configurations, the Services they call, the workloads behind those Services and the
// Namespaces and ServiceAccounts, and waited for until the stand-in serves every webhook. Those
// objects are applied again in the timed pass, as no-ops: the floor is a little lower than a
// true first apply would be, which is what a floor should err towards.
func TimeFloor(objs []*unstructured.Unstructured, defaultClass bool, parallelism int) (s Sample, passes int, err error) {
	c, hooks, err := StartBed(defaultClass)
	if err != nil {
		return s, 0, err
	}
	defer StopBed(c)
	objs = withoutInjectedCABundles(objs)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := blindApply(ctx, c.Config, webhookBackends(objs), parallelism, time.Second); err != nil {
		return s, 0, fmt.Errorf("floor: webhook backends: %w", err)
	}
	if err := waitServing(ctx, hooks); err != nil {
		return s, 0, err
	}
	s, err = Time(func() error {
		passes, err = blindApply(ctx, c.Config, objs, parallelism, floorPause)
		return err
	})
	return s, passes, err
}

// waitServing waits until the stand-in serves every webhook the cluster registers.
func waitServing(ctx context.Context, hooks *standins.AdmissionWebhooks) error {
	for {
		up, down := hooks.Serving()
		if len(up) > 0 && len(down) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("floor: webhooks still not served: %s", strings.Join(down, ", "))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// blindApply server-side applies every object, parallelism at a time, and re-applies those that
// failed (after pause) until none does; it returns the number of passes.
func blindApply(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured, parallelism int, pause time.Duration) (int, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return 0, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	todo := objs
	var reason error // the last failure seen before the deadline
	for passes := 1; ; passes++ {
		var (
			mu     sync.Mutex
			failed []*unstructured.Unstructured
			last   error
			noKind bool
			wg     sync.WaitGroup
			slots  = make(chan struct{}, parallelism)
		)
		for _, o := range todo {
			wg.Add(1)
			slots <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if err := applyOne(ctx, dyn, mapper, o); err != nil {
					mu.Lock()
					failed = append(failed, o)
					last = fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
					noKind = noKind || meta.IsNoMatchError(err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(failed) == 0 {
			return passes, nil
		}
		if ctx.Err() != nil {
			return passes, fmt.Errorf("%d objects still failing after %d passes, e.g. %w", len(failed), passes, reason)
		}
		reason = last
		if noKind {
			mapper.Reset() // a CRD of the set may have been established meanwhile
		}
		todo = failed
		time.Sleep(pause)
	}
}

func applyOne(ctx context.Context, dyn dynamic.Interface, mapper meta.RESTMapper, o *unstructured.Unstructured) error {
	gvk := o.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	r := dyn.Resource(m.Resource)
	var ri dynamic.ResourceInterface = r
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.GetNamespace()
		if ns == "" {
			ns = metav1.NamespaceDefault // as kubectl apply does, with no --namespace
		}
		ri = r.Namespace(ns)
	}
	_, err = ri.Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: floorManager, Force: true})
	return err
}

// webhookBackends picks what the set's admission webhooks need to answer: their configurations,
// the Services they call, the workloads whose pods those Services select, and every Namespace and
// ServiceAccount (the pods need theirs).
func webhookBackends(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	called := map[string]bool{} // namespace/name
	for _, o := range objs {
		if isWebhookConfiguration(o) {
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			for _, h := range hooks {
				ns, _, _ := unstructured.NestedString(h.(map[string]any), "clientConfig", "service", "namespace")
				name, _, _ := unstructured.NestedString(h.(map[string]any), "clientConfig", "service", "name")
				called[ns+"/"+name] = true
			}
		}
	}
	var selectors []struct {
		ns  string
		sel labels.Selector
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		switch {
		case isWebhookConfiguration(o), o.GetKind() == "Namespace", o.GetKind() == "ServiceAccount":
			out = append(out, o)
		case o.GetKind() == "Service" && called[o.GetNamespace()+"/"+o.GetName()]:
			out = append(out, o)
			sel, _, _ := unstructured.NestedStringMap(o.Object, "spec", "selector")
			if len(sel) > 0 {
				selectors = append(selectors, struct {
					ns  string
					sel labels.Selector
				}{o.GetNamespace(), labels.SelectorFromSet(sel)})
			}
		}
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment", "StatefulSet", "DaemonSet":
		default:
			continue
		}
		podLabels, _, _ := unstructured.NestedStringMap(o.Object, "spec", "template", "metadata", "labels")
		for _, s := range selectors {
			if s.ns == o.GetNamespace() && s.sel.Matches(labels.Set(podLabels)) {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

func isWebhookConfiguration(o *unstructured.Unstructured) bool {
	return o.GroupVersionKind().Group == "admissionregistration.k8s.io" &&
		(o.GetKind() == "MutatingWebhookConfiguration" || o.GetKind() == "ValidatingWebhookConfiguration")
}

// withoutInjectedCABundles copies objs without the webhooks' Service caBundle fields: on the bed
// the stand-in injects them, as cainjector does on a real cluster, and a forced apply of the
// shipped empty value would take the CA away from under the API server mid-run.
func withoutInjectedCABundles(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		if !isWebhookConfiguration(o) {
			out[i] = o
			continue
		}
		o = o.DeepCopy()
		hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
		for _, h := range hooks {
			if cc, ok := h.(map[string]any)["clientConfig"].(map[string]any); ok && cc["service"] != nil {
				delete(cc, "caBundle")
			}
		}
		_ = unstructured.SetNestedSlice(o.Object, hooks, "webhooks")
		out[i] = o
	}
	return out
}
