package profile

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPortable: what the server set and what ties an object to its cluster go; name,
// namespace, labels, annotations (but kubectl's last-applied) and the content stay.
func TestPortable(t *testing.T) {
	in := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "user-dave-example-com-clusterrole-edit", "namespace": "bob",
			"uid": "u", "resourceVersion": "7", "generation": int64(1), "creationTimestamp": "2026-01-01T00:00:00Z",
			"managedFields": []any{map[string]any{"manager": "kfam"}}, "ownerReferences": []any{map[string]any{"uid": "p"}},
			"finalizers": []any{"f"}, "labels": map[string]any{"a": "b"},
			"annotations": map[string]any{"user": "dave@example.com", "role": "edit", "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
		"roleRef": map[string]any{"kind": "ClusterRole", "name": "kubeflow-edit"},
		"status":  map[string]any{"x": "y"},
	}}
	want := map[string]any{
		"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
		"metadata": map[string]any{"name": "user-dave-example-com-clusterrole-edit", "namespace": "bob",
			"labels": map[string]any{"a": "b"}, "annotations": map[string]any{"user": "dave@example.com", "role": "edit"}},
		"roleRef": map[string]any{"kind": "ClusterRole", "name": "kubeflow-edit"},
	}
	if got := portable(in).Object; !reflect.DeepEqual(got, want) {
		t.Errorf("portable:\n%v\nwant\n%v", got, want)
	}
	if in.GetUID() != "u" || len(in.GetAnnotations()) != 3 {
		t.Error("portable changed the object it was given")
	}
}
