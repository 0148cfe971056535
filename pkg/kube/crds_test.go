package kube

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
)

func widgetCRD(scope string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "widgets.example.io"},
		"spec": map[string]any{
			"group": "example.io", "scope": scope,
			"names": map[string]any{"plural": "widgets", "kind": "Widget"},
		},
	}}
}

func TestMappingFromCRD(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "example.io", Version: "v2", Kind: "Widget"}
	for scope, want := range map[string]meta.RESTScopeName{"Namespaced": meta.RESTScopeNameNamespace, "Cluster": meta.RESTScopeNameRoot} {
		m := mappingFromCRD(widgetCRD(scope), gvk)
		if m.Resource != (schema.GroupVersionResource{Group: "example.io", Version: "v2", Resource: "widgets"}) || m.Scope.Name() != want {
			t.Errorf("%s: mapping = %v %v, want widgets.v2.example.io %v", scope, m.Resource, m.Scope.Name(), want)
		}
	}
	if gk := CRDGroupKind(widgetCRD("Namespaced")); gk != gvk.GroupKind() {
		t.Errorf("crdGroupKind = %v", gk)
	}
}

// TestCRDTrackerWaitsForMark: a waiter returns once the watch marks its CRD Established, and
// names the CRD when its context ends first.
func TestCRDTrackerWaitsForMark(t *testing.T) {
	tr := newCRDTracker(&Clients{})
	go func() {
		time.Sleep(20 * time.Millisecond)
		tr.mark("other.example.io")
		tr.mark("widgets.example.io")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.wait(ctx, "widgets.example.io"); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	err := tr.wait(short, "never.example.io")
	if err == nil || !strings.Contains(err.Error(), "never.example.io is not established") {
		t.Fatalf("wait on a CRD never established: %v", err)
	}
}

// TestCRDTrackerPollsWithoutWatch: when the watch is gone, a waiter polls its CRD until the
// Established condition is true.
func TestCRDTrackerPollsWithoutWatch(t *testing.T) {
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{crdGVR: "CustomResourceDefinitionList"})
	calls := 0
	dyn.PrependReactor("get", "customresourcedefinitions", func(clienttesting.Action) (bool, runtime.Object, error) {
		calls++
		crd := widgetCRD("Namespaced")
		status := "False"
		if calls > 3 {
			status = "True"
		}
		_ = unstructured.SetNestedSlice(crd.Object, []any{map[string]any{"type": "Established", "status": status}}, "status", "conditions")
		return true, crd, nil
	})
	tr := newCRDTracker(&Clients{Dynamic: dyn})
	tr.breakWatch()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.wait(ctx, "widgets.example.io"); err != nil {
		t.Fatal(err)
	}
	if calls != 4 {
		t.Fatalf("polled %d times, want 4 (3 not established, then established)", calls)
	}
}
