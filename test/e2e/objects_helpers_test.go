package e2e

import (
	"context"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
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

// appliedRecord is the set of refs (kube.Ref) a section's apply record holds: what its next run
// may skip as unchanged.
func appliedRecord(t *testing.T, c *testbed.Cluster, section string) map[string]bool {
	t.Helper()
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(context.Background(), kube.RecordName(section), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the %s apply record: %v", section, err)
	}
	var rec map[string]json.RawMessage
	if err := json.Unmarshal([]byte(cm.Data["applied.json"]), &rec); err != nil {
		t.Fatalf("the %s apply record does not parse: %v", section, err)
	}
	out := map[string]bool{}
	for ref := range rec {
		out[ref] = true
	}
	return out
}
