package kube

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	fakediscovery "k8s.io/client-go/discovery/fake"
	k8stesting "k8s.io/client-go/testing"
)

func obj(apiVersion, kind, name string, spec map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}}
	if spec != nil {
		o.Object["spec"] = spec
	}
	return o
}

// TestAPIProblems: kinds the server does not serve are named (unless a CRD among the objects
// defines them), and CRDs with CEL rules only below 1.25.
func TestAPIProblems(t *testing.T) {
	dc := &fakediscovery.FakeDiscovery{Fake: &k8stesting.Fake{Resources: []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{{Kind: "ConfigMap"}}},
		{GroupVersion: "apiextensions.k8s.io/v1", APIResources: []metav1.APIResource{{Kind: "CustomResourceDefinition"}}},
	}}}
	cel := obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "pools.example.io", map[string]any{
		"group": "example.io", "names": map[string]any{"kind": "Pool"},
		"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"openAPIV3Schema": map[string]any{
			"x-kubernetes-validations": []any{map[string]any{"rule": "self == oldSelf"}}}}}},
	})
	objs := []*unstructured.Unstructured{
		obj("v1", "ConfigMap", "a", nil),
		obj("policy/v1beta1", "PodSecurityPolicy", "psp", nil),
		cel,
		obj("example.io/v1", "Pool", "p", nil),
	}
	got := strings.Join(APIProblems(dc, 21, objs), "\n")
	for _, want := range []string{"policy/v1beta1 PodSecurityPolicy (1)", "Kubernetes 1.21 does not serve", "pools.example.io"} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Pool (1)") || strings.Contains(got, "ConfigMap") {
		t.Errorf("a kind the CRD defines, or a served one, was named:\n%s", got)
	}
	if got := APIProblems(dc, 25, objs[2:]); len(got) != 0 {
		t.Errorf("1.25 serves CEL rules and the CRD's kind: %v", got)
	}
}
