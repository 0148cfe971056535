package e2e

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// listItems parses what a dry run with -o json|yaml printed: one v1 List of objects.
func listItems(t *testing.T, stdout string) []unstructured.Unstructured {
	t.Helper()
	var list unstructured.UnstructuredList
	j, err := yaml.YAMLToJSON([]byte(stdout))
	if err == nil {
		err = list.UnmarshalJSON(j)
	}
	if err != nil {
		t.Fatalf("stdout is not a List of objects: %v\n%.2000s", err, stdout)
	}
	if list.GetKind() != "List" {
		t.Fatalf("stdout is a %q, want a List", list.GetKind())
	}
	return list.Items
}

// listedObjects is the set of Kind/namespace/name in the printed List.
func listedObjects(t *testing.T, stdout string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, o := range listItems(t, stdout) {
		out[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()] = true
	}
	return out
}
