package kube

import (
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// TestLookupField reads the field paths the API server names in apply conflicts.
func TestLookupField(t *testing.T) {
	obj := map[string]any{
		"data": map[string]any{"config.yaml": "a: 1", "config": "short"},
		"webhooks": []any{
			map[string]any{"name": "one", "rules": []any{"r1"}},
			map[string]any{"name": `two "quoted", comma`, "rules": []any{"r2"}},
		},
		"ports":      []any{map[string]any{"containerPort": int64(8080), "protocol": "TCP", "name": "http"}},
		"finalizers": []any{"x", "y"},
	}
	for _, tc := range []struct {
		path string
		want any
		ok   bool
	}{
		{".data.config.yaml", "a: 1", true},
		{".data.config", "short", true},
		{".data.other", nil, false},
		{`.webhooks[name="one"].rules`, []any{"r1"}, true},
		{`.webhooks[name="two \"quoted\", comma"].rules`, []any{"r2"}, true},
		{`.webhooks[name="three"].rules`, nil, false},
		{`.ports[containerPort=8080,protocol="TCP"].name`, "http", true},
		{`.finalizers[="y"]`, "y", true},
		{`.finalizers[1]`, "y", true},
		{`.finalizers[5]`, nil, false},
		{`.spec.absent`, nil, false},
	} {
		got, ok, err := lookupField(obj, tc.path)
		if err != nil || ok != tc.ok || !apiequality.Semantic.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v %v %v, want %v %v", tc.path, got, ok, err, tc.want, tc.ok)
		}
	}
	for _, bad := range []string{"data", `.webhooks[name="one"`, `.webhooks[name]`} {
		if _, _, err := lookupField(obj, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
