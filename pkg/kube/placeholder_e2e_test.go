package kube_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestApplyCompletesSchemaPlaceholders: a CRD whose schema is a placeholder (as a cached
// Kubeflow build holds it) is completed before it is sent and arrives whole; applied again with
// the placeholder, or whole, it is skipped by the apply record without being completed and no
// resourceVersion moves; changed, it is completed and sent. A placeholder sent uncompleted is
// refused by the API server.
func TestApplyCompletesSchemaPlaceholders(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{APIServerOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	whole := decode(t, widgetCRD)[0]
	schemaAt := func(o *unstructured.Unstructured) map[string]any {
		v := o.Object["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)
		return v["schema"].(map[string]any)
	}
	digest := kube.SchemaDigest(schemaAt(whole)["openAPIV3Schema"].(map[string]any))
	lazy := func() *unstructured.Unstructured {
		o := whole.DeepCopy()
		schemaAt(o)["openAPIV3Schema"] = kube.SchemaPlaceholder(digest)
		return o
	}
	completed := 0
	complete := func(o *unstructured.Unstructured) error {
		d, ok := kube.PlaceholderDigest(schemaAt(o)["openAPIV3Schema"])
		if !ok {
			return nil
		}
		if d != digest {
			return fmt.Errorf("no schema %s", d)
		}
		completed++
		schemaAt(o)["openAPIV3Schema"] = whole.DeepCopy().Object["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"]
		return nil
	}
	applier := func(complete func(*unstructured.Unstructured) error) *kube.Applier {
		return &kube.Applier{Clients: clientsFor(t, c), Section: "lazy", SkipUnchanged: true, Complete: complete}
	}
	apply := func(a *kube.Applier, o *unstructured.Unstructured) (string, error) {
		rep, err := a.Apply(ctx, []*unstructured.Unstructured{o})
		if err != nil || len(rep.Results) != 1 {
			return "", err
		}
		return rep.Results[0].Action, nil
	}
	liveRV := func() (string, map[string]any) {
		crd, err := clientsFor(t, c).Dynamic.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).Get(ctx, whole.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return crd.GetResourceVersion(), schemaAt(crd)["openAPIV3Schema"].(map[string]any)
	}

	if got, err := apply(applier(complete), lazy()); err != nil || got != output.Created || completed != 1 {
		t.Fatalf("first apply: %s (%v), completed %d times; want created after one completion", got, err, completed)
	}
	rv, live := liveRV()
	if _, ok := live["properties"].(map[string]any)["spec"]; !ok || live["type"] != "object" {
		t.Fatalf("the CRD arrived without its schema: %v", live)
	}
	for name, o := range map[string]*unstructured.Unstructured{"with the placeholder": lazy(), "whole": whole.DeepCopy()} {
		if got, err := apply(applier(complete), o); err != nil || got != output.Unchanged || completed != 1 {
			t.Fatalf("re-apply %s: %s (%v), completed %d times; want unchanged without a completion", name, got, err, completed)
		}
		if again, _ := liveRV(); again != rv {
			t.Fatalf("re-apply %s moved the resourceVersion %s -> %s", name, rv, again)
		}
	}
	changed := lazy()
	changed.SetLabels(map[string]string{"tier": "lazy"})
	if got, err := apply(applier(complete), changed); err != nil || got != output.Configured || completed != 2 {
		t.Fatalf("changed: %s (%v), completed %d times; want configured after a second completion", got, err, completed)
	}
	refused := lazy()
	refused.SetLabels(map[string]string{"tier": "refused"})
	if got, err := apply(applier(nil), refused); err == nil {
		t.Fatalf("a placeholder sent uncompleted: %s, want the API server to refuse it", got)
	}
	if _, live := liveRV(); live["type"] != "object" {
		t.Fatalf("the refused apply changed the schema: %v", live)
	}
}
