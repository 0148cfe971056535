package kube

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
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

// TestWorkloadItemsEvaluateAsTheWholeObject: a workload read through the typed (protobuf) path,
// trimmed to what the readiness check reads, evaluates as the whole object does (ready or not,
// the reason, the pod selector), one by name and all of a kind by a LIST; a named one that is
// not there is the API's NotFound.
func TestWorkloadItemsEvaluateAsTheWholeObject(t *testing.T) {
	template := map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "a"}},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}
	workload := func(kind, name string, gen int64, spec, status map[string]any) *unstructured.Unstructured {
		spec["template"] = template
		spec["selector"] = map[string]any{"matchLabels": map[string]any{"app": name}}
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": "ns", "generation": gen,
				"annotations": map[string]any{"deployment.kubernetes.io/revision": "3"}},
			"spec": spec, "status": status}}
	}
	rolling := map[string]any{"type": "RollingUpdate"}
	cases := []*unstructured.Unstructured{
		workload("Deployment", "d-old", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(1)}),
		workload("Deployment", "d-half", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(1)}),
		workload("Deployment", "d-ready", 2, map[string]any{"replicas": int64(2)}, map[string]any{"observedGeneration": int64(2), "replicas": int64(2), "updatedReplicas": int64(2), "availableReplicas": int64(2)}),
		workload("Deployment", "d-stuck", 1, map[string]any{"replicas": int64(1)}, map[string]any{"observedGeneration": int64(1),
			"conditions": []any{map[string]any{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}}}),
		workload("StatefulSet", "s-part", 1, map[string]any{"replicas": int64(3), "updateStrategy": map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": int64(1)}}},
			map[string]any{"observedGeneration": int64(1), "readyReplicas": int64(3), "updatedReplicas": int64(2)}),
		workload("StatefulSet", "s-ready", 1, map[string]any{"replicas": int64(1), "updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "readyReplicas": int64(1),
			"currentRevision": "a", "updateRevision": "a", "currentReplicas": int64(1)}),
		workload("StatefulSet", "s-ondelete", 1, map[string]any{"updateStrategy": map[string]any{"type": "OnDelete"}}, map[string]any{}),
		workload("DaemonSet", "ds-half", 1, map[string]any{"updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(2), "updatedNumberScheduled": int64(2), "numberAvailable": int64(1)}),
		workload("DaemonSet", "ds-ready", 1, map[string]any{"updateStrategy": rolling}, map[string]any{"observedGeneration": int64(1), "desiredNumberScheduled": int64(2), "updatedNumberScheduled": int64(2), "numberAvailable": int64(2)}),
	}
	typed := map[string]runtime.Object{"Deployment": &appsv1.Deployment{}, "StatefulSet": &appsv1.StatefulSet{}, "DaemonSet": &appsv1.DaemonSet{}}
	gvrs := map[string]schema.GroupVersionResource{"Deployment": DeploymentsGVR, "StatefulSet": StatefulSetsGVR, "DaemonSet": DaemonSetsGVR}
	var objs []runtime.Object
	for _, u := range cases {
		o := typed[u.GetKind()].DeepCopyObject()
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, o); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	c := &Clients{}
	c.protobufOnce.Do(func() { c.protobuf = fake.NewClientset(objs...) })
	ctx := context.Background()
	perKind := map[string]int{}
	for _, u := range cases {
		perKind[u.GetKind()]++
		items, ok, err := workloadItems(ctx, c, Target{GVR: gvrs[u.GetKind()], Namespace: "ns", Name: u.GetName()})
		if !ok || err != nil || len(items) != 1 {
			t.Fatalf("%s %s: %d items, %v %v", u.GetKind(), u.GetName(), len(items), ok, err)
		}
		if got, want := evaluate(&items[0], Target{}), evaluate(u, Target{}); got != want {
			t.Errorf("%s %s: the typed read evaluates %+v, the whole object %+v", u.GetKind(), u.GetName(), got, want)
		}
	}
	for kind, n := range perKind {
		if items, _, err := workloadItems(ctx, c, Target{GVR: gvrs[kind], Namespace: "ns"}); err != nil || len(items) != n {
			t.Errorf("all %ss: %d items, want %d (%v)", kind, len(items), n, err)
		}
	}
	if _, _, err := workloadItems(ctx, c, Target{GVR: DeploymentsGVR, Namespace: "ns", Name: "gone"}); !apierrors.IsNotFound(err) {
		t.Errorf("a named Deployment not there: %v, want NotFound", err)
	}
	if _, ok, _ := workloadItems(ctx, c, Target{GVR: PodsGVR, Namespace: "ns"}); ok {
		t.Error("pods read through the workload path")
	}
}
