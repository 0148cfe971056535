package kube

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// crdGVR is the CustomResourceDefinition resource.
var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// isCRD tells whether o is a CustomResourceDefinition.
func isCRD(o *unstructured.Unstructured) bool {
	return o.GroupVersionKind().GroupKind() == schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}
}

// CRDGroupKind is the group and kind a CustomResourceDefinition defines.
func CRDGroupKind(crd *unstructured.Unstructured) schema.GroupKind {
	group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
	return schema.GroupKind{Group: group, Kind: kind}
}

// mappingFromCRD is the REST mapping of gvk as crd defines it. Custom resources of a CRD in the
// same set are mapped from the CRD itself, so applying them needs no discovery round (which lags
// behind a CRD that was just established) and no RESTMapper reset.
func mappingFromCRD(crd *unstructured.Unstructured, gvk schema.GroupVersionKind) *meta.RESTMapping {
	plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
	scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope")
	m := &meta.RESTMapping{
		Resource:         schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: plural},
		GroupVersionKind: gvk,
		Scope:            meta.RESTScopeNamespace,
	}
	if scope == "Cluster" {
		m.Scope = meta.RESTScopeRoot
	}
	return m
}

// crdTracker learns from one watch on CustomResourceDefinitions when each becomes Established,
// so a custom resource waits for its own CRD only, without holding a request slot. The watch
// starts before the first CRD is written (from the resourceVersion of a one-item LIST), so no
// update is missed, and uses protobuf: CRDs are large, and JSON-encoding every status update
// of them costs the API server seconds of CPU on a big set (measured: about 2 s for Kubeflow's
// 71 CRDs); polling GETs cost even more. If the watch cannot be kept (e.g. the API server
// restarted and compacted past it), waiters fall back to polling their CRD.
type crdTracker struct {
	clients *Clients
	once    sync.Once

	mu          sync.Mutex
	established map[string]bool
	changed     chan struct{} // closed and replaced on every update
	broken      bool          // the watch is gone for good: poll instead
}

func newCRDTracker(c *Clients) *crdTracker {
	return &crdTracker{clients: c, established: map[string]bool{}, changed: make(chan struct{})}
}

// start begins watching (once); ctx bounds the watch.
func (t *crdTracker) start(ctx context.Context) {
	t.once.Do(func() {
		client, err := apiextv1.NewForConfig(protobufConfig(t.clients.Config))
		if err != nil {
			t.breakWatch()
			return
		}
		crds := client.CustomResourceDefinitions()
		var rv string
		err = Retry(ctx, func(ctx context.Context) error {
			list, err := t.clients.Metadata.Resource(crdGVR).List(ctx, metav1.ListOptions{Limit: 1})
			if err == nil {
				rv = list.ResourceVersion
			}
			return err
		})
		if err != nil {
			t.breakWatch()
			return
		}
		go t.watch(ctx, crds, rv)
	})
}

// watch follows CRD events from rv, reconnecting after a dropped connection.
func (t *crdTracker) watch(ctx context.Context, crds apiextv1.CustomResourceDefinitionInterface, rv string) {
	b := &Backoff{Max: 2 * time.Second}
	for ctx.Err() == nil {
		w, err := crds.Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
		if err != nil {
			if !IsTransient(err) || b.Sleep(ctx) != nil {
				t.breakWatch()
				return
			}
			continue
		}
		for ev := range w.ResultChan() {
			if ev.Type == watch.Error {
				w.Stop()
				t.breakWatch()
				return
			}
			crd, ok := ev.Object.(*apiextensionsv1.CustomResourceDefinition)
			if !ok {
				continue
			}
			rv = crd.ResourceVersion
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				for _, c := range crd.Status.Conditions {
					if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
						t.mark(crd.Name)
					}
				}
			}
		}
	}
}

func (t *crdTracker) mark(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.established[name] {
		t.established[name] = true
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

func (t *crdTracker) breakWatch() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.broken {
		t.broken = true
		close(t.changed)
		t.changed = make(chan struct{})
	}
}

// wait blocks until the CRD name is Established or ctx ends.
func (t *crdTracker) wait(ctx context.Context, name string) error {
	for {
		t.mu.Lock()
		ok, broken, changed := t.established[name], t.broken, t.changed
		t.mu.Unlock()
		switch {
		case ok:
			return nil
		case broken:
			return t.poll(ctx, name)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("CustomResourceDefinition %s is not established: %w", name, ctx.Err())
		}
	}
}

// poll is the fallback without a watch: GET the CRD every 200 ms until it is Established.
func (t *crdTracker) poll(ctx context.Context, name string) error {
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		crd, err := t.clients.Dynamic.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		return err == nil && conditionTrue(crd, "Established"), nil
	})
	if err != nil {
		return fmt.Errorf("CustomResourceDefinition %s is not established: %w", name, err)
	}
	return nil
}
