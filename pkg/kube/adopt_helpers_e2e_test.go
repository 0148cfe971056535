package kube_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// resourceFor is the dynamic client of o's kind in its namespace.
func resourceFor(t *testing.T, cl *kube.Clients, o *unstructured.Unstructured) dynamic.ResourceInterface {
	t.Helper()
	gvk := o.GroupVersionKind()
	m, err := cl.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatal(err)
	}
	if o.GetNamespace() == "" {
		return cl.Dynamic.Resource(m.Resource)
	}
	return cl.Dynamic.Resource(m.Resource).Namespace(o.GetNamespace())
}

// createAs creates o as a hand tool would (its field manager, operation Update).
func createAs(ctx context.Context, t *testing.T, cl *kube.Clients, o *unstructured.Unstructured, manager string) {
	t.Helper()
	if _, err := resourceFor(t, cl, o).Create(ctx, o, metav1.CreateOptions{FieldManager: manager}); err != nil {
		t.Fatalf("create %s as %s: %v", kube.Ref(o), manager, err)
	}
}

// labelAs sets one label on a ConfigMap as `kubectl label` would (a merge patch, its manager).
func labelAs(ctx context.Context, t *testing.T, cl *kube.Clients, ns, name, key, value, manager string) {
	t.Helper()
	patch := []byte(`{"metadata":{"labels":{"` + key + `":"` + value + `"}}}`)
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	if _, err := cl.Dynamic.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: manager}); err != nil {
		t.Fatal(err)
	}
}

// get reads one object.
func get(ctx context.Context, t *testing.T, cl *kube.Clients, apiVersion, resource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		t.Fatal(err)
	}
	u, err := cl.Dynamic.Resource(gv.WithResource(resource)).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// appliedByPlugin tells whether the plugin's field manager has an Apply entry on u.
func appliedByPlugin(u *unstructured.Unstructured) bool {
	for _, e := range u.GetManagedFields() {
		if e.Manager == kube.FieldManager && e.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}
