package kubeflow

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestReplacesGeneratorRef: a reference to the upstream generator's hashed Secret is this
// section's to replace with its own generated one; any other difference is not.
func TestReplacesGeneratorRef(t *testing.T) {
	own := &unstructured.Unstructured{}
	own.SetKind("Secret")
	own.SetName("oauth2-proxy")
	replaces := replacesGeneratorRef([]*unstructured.Unstructured{own})
	ref := func(name, key string) map[string]any { return map[string]any{"name": name, "key": key} }
	for _, tc := range []struct {
		live, want any
		ok         bool
	}{
		{ref("oauth2-proxy-h675gf55ht", "client-id"), ref("oauth2-proxy", "client-id"), true},
		{ref("oauth2-proxy-h675gf55ht", "client-id"), ref("oauth2-proxy", "client-secret"), false},
		{ref("my-own-secret", "client-id"), ref("oauth2-proxy", "client-id"), false},
		{ref("oauth2-proxy-short", "client-id"), ref("oauth2-proxy", "client-id"), false},
		{ref("dex-h675gf55ht", "x"), ref("dex", "x"), false},
		{"a string", "another", false},
	} {
		if got := replaces(nil, ".f", tc.live, tc.want); got != tc.ok {
			t.Errorf("%v -> %v: %v, want %v", tc.live, tc.want, got, tc.ok)
		}
	}
}
