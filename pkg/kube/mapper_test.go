package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper answers every kind as a namespaced resource, counting the calls; kinds in
// missing are not served.
type countingMapper struct {
	meta.ResettableRESTMapper
	calls, resets int
	missing       map[string]bool
}

func (m *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	m.calls++
	if m.missing[gk.Kind] {
		return nil, &meta.NoKindMatchError{GroupKind: gk}
	}
	return &meta.RESTMapping{GroupVersionKind: gk.WithVersion(versions[0]), Scope: meta.RESTScopeNamespace}, nil
}

func (m *countingMapper) Reset() { m.resets++ }

// TestMemoMapperKeepsAnswersUntilReset: a kind's mapping is asked of the wrapped mapper once per
// kind and versions; a kind not served is asked again (its CRD may come); Reset forgets.
func TestMemoMapperKeepsAnswersUntilReset(t *testing.T) {
	inner := &countingMapper{missing: map[string]bool{"Widget": true}}
	m := newMemoMapper(inner)
	deploy := schema.GroupKind{Group: "apps", Kind: "Deployment"}
	for range 3 {
		if got, err := m.RESTMapping(deploy, "v1"); err != nil || got.GroupVersionKind.Version != "v1" {
			t.Fatalf("RESTMapping: %v, %v", got, err)
		}
	}
	m.RESTMapping(deploy, "v1beta1") // other versions asked: another answer
	if inner.calls != 2 {
		t.Fatalf("the wrapped mapper was asked %d times for 2 distinct questions, want 2", inner.calls)
	}
	widget := schema.GroupKind{Group: "example.io", Kind: "Widget"}
	for range 2 {
		if _, err := m.RESTMapping(widget, "v1"); !meta.IsNoMatchError(err) {
			t.Fatalf("a kind not served: %v, want a no-match error", err)
		}
	}
	if inner.calls != 4 {
		t.Fatalf("a kind not served was asked %d times in all, want each time (4 calls)", inner.calls)
	}
	delete(inner.missing, "Widget")
	m.(meta.ResettableRESTMapper).Reset()
	if _, err := m.RESTMapping(widget, "v1"); err != nil || inner.resets != 1 {
		t.Fatalf("after Reset: %v, %d resets of the wrapped mapper", err, inner.resets)
	}
	m.RESTMapping(deploy, "v1")
	if inner.calls != 6 {
		t.Fatalf("after Reset the kept answers were used: %d calls, want 6", inner.calls)
	}
	var plain meta.RESTMapper = meta.NewDefaultRESTMapper(nil)
	if newMemoMapper(plain) != plain {
		t.Fatal("a mapper that cannot be reset was wrapped")
	}
}
