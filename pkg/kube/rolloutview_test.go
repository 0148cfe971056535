package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/kubectl/pkg/polymorphichelpers"
)

// TestRolloutViewReadsAsTheWholeObject: kubectl's rollout status viewers say the same of the
// trimmed view as of the whole workload, ready or not, for each kind and each of their branches.
func TestRolloutViewReadsAsTheWholeObject(t *testing.T) {
	template := map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "a"}},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}
	workload := func(kind string, gen int64, spec, status map[string]any) *unstructured.Unstructured {
		spec["template"] = template
		spec["selector"] = map[string]any{"matchLabels": map[string]any{"app": "a"}}
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": kind,
			"metadata": map[string]any{"name": "w", "namespace": "ns", "generation": gen,
				"annotations":   map[string]any{"deployment.kubernetes.io/revision": "3"},
				"managedFields": []any{map[string]any{"manager": "m", "operation": "Apply"}}},
			"spec": spec, "status": status}}
	}
	rolling := map[string]any{"type": "RollingUpdate"}
	cases := []*unstructured.Unstructured{
		workload("Deployment", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(1)}),
		workload("Deployment", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(1)}),
		workload("Deployment", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}),
		workload("Deployment", 1, map[string]any{"replicas": int64(1)}, map[string]any{"observedGeneration": int64(1),
			"conditions": []any{map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}}}),
		workload("StatefulSet", 1, map[string]any{"replicas": int64(3), "updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "readyReplicas": int64(1)}),
		workload("StatefulSet", 1, map[string]any{"replicas": int64(3), "updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": int64(1)}}},
			map[string]any{"observedGeneration": int64(1), "readyReplicas": int64(3), "updatedReplicas": int64(2)}),
		workload("StatefulSet", 1, map[string]any{"replicas": int64(1), "updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "readyReplicas": int64(1),
			"currentRevision": "a", "updateRevision": "a", "currentReplicas": int64(1)}),
		workload("StatefulSet", 1, map[string]any{"updateStrategy": map[string]any{"type": "OnDelete"}}, map[string]any{}),
		workload("DaemonSet", 1, map[string]any{"updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(2), "updatedNumberScheduled": int64(2), "numberAvailable": int64(1)}),
		workload("DaemonSet", 1, map[string]any{"updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(2), "updatedNumberScheduled": int64(2), "numberAvailable": int64(2)}),
	}
	for _, u := range cases {
		viewer, err := polymorphichelpers.StatusViewerFor(u.GroupVersionKind().GroupKind())
		if err != nil {
			t.Fatal(err)
		}
		wantMsg, wantDone, wantErr := viewer.Status(u, 0)
		msg, done, err := viewer.Status(rolloutView(u), 0)
		if msg != wantMsg || done != wantDone || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
			t.Errorf("%s %v: view says %q %v %v, the whole object %q %v %v", u.GetKind(), u.Object["status"], msg, done, err, wantMsg, wantDone, wantErr)
		}
	}
}
