package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPreparableKeepsTheOriginal: prepare and member labelling change the copy only, for every
// kind prepare edits, so the record's hash of what would be sent leaves the build as it was.
func TestPreparableKeepsTheOriginal(t *testing.T) {
	objs := []map[string]any{
		{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": "things.example.com", "annotations": map[string]any{"cert-manager.io/inject-ca-from": "ns/cert"}},
			"spec": map[string]any{"group": "example.com", "conversion": map[string]any{"strategy": "Webhook",
				"webhook": map[string]any{"clientConfig": map[string]any{"caBundle": "Cg==", "service": map[string]any{"name": "s"}}}},
				"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object"}}}}}},
		{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
			"metadata": map[string]any{"name": "hooks", "labels": map[string]any{"app": "x"}},
			"webhooks": []any{map[string]any{"name": "a.example.com", "clientConfig": map[string]any{"caBundle": ""}}}},
		{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
			"metadata": map[string]any{"name": "v1.example.com"}, "spec": map[string]any{"caBundle": "", "group": "example.com"}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": "agg"},
			"aggregationRule": map[string]any{"clusterRoleSelectors": []any{}}, "rules": []any{}},
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "n"}, "data": map[string]any{"k": "v"}},
	}
	a := &Applier{}
	for _, obj := range objs {
		o := &unstructured.Unstructured{Object: obj}
		before := o.DeepCopy()
		c := preparable(o)
		a.prepare(c)
		(&applySet{id: "applyset-x"}).labelMember(c)
		if !equality.Semantic.DeepEqual(before.Object, o.Object) {
			t.Errorf("%s: preparing the copy changed the original:\n%v\nwas\n%v", o.GetKind(), o.Object, before.Object)
		}
		want := before.DeepCopy()
		a.prepare(want)
		(&applySet{id: "applyset-x"}).labelMember(want)
		if !equality.Semantic.DeepEqual(want.Object, c.Object) {
			t.Errorf("%s: the prepared copy differs from a prepared deep copy:\n%v\nwant\n%v", o.GetKind(), c.Object, want.Object)
		}
	}
}
