package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestCustomResourceTargetsAndTheGenericRule: the changed custom resources of a set become one
// target per kind and namespace, and kstatus's rules decide their readiness.
func TestCustomResourceTargetsAndTheGenericRule(t *testing.T) {
	objs, err := DecodeManifests([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: profiles.kubeflow.org}
spec:
  group: kubeflow.org
  scope: Cluster
  names: {kind: Profile, plural: profiles}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: kubeflow.org/v1beta1
kind: Profile
metadata: {name: alice}
---
apiVersion: kubeflow.org/v1beta1
kind: Profile
metadata: {name: bob}
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: kubeflow}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, namespace: kubeflow}
`))
	if err != nil {
		t.Fatal(err)
	}
	targets := CustomResourceTargets(objs, func(o *unstructured.Unstructured) bool { return o.GetName() != "bob" })
	if len(targets) != 2 || targets[0].GVR.Resource != "profiles" || targets[0].GVR.Version != "v1beta1" || strings.Join(targets[0].Names, ",") != "alice" ||
		targets[1].GVR != JobsGVR || targets[1].Namespace != "kubeflow" {
		t.Fatalf("targets %+v", targets)
	}
	profile := func(status map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "Profile",
			"metadata": map[string]any{"name": "alice", "generation": int64(2)}}}
		if status != nil {
			u.Object["status"] = status
		}
		return u
	}
	for name, tc := range map[string]struct {
		u     *unstructured.Unstructured
		ready bool
		why   string
	}{
		"no status: nothing to wait for": {profile(nil), true, ""},
		"generation not observed":        {profile(map[string]any{"observedGeneration": int64(1)}), false, "latest observed generation is 1"},
		"observed, Ready":                {profile(map[string]any{"observedGeneration": int64(2), "conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}), true, ""},
		"observed, not Ready":            {profile(map[string]any{"observedGeneration": int64(2), "conditions": []any{map[string]any{"type": "Ready", "status": "False", "message": "quota"}}}), false, "inprogress"},
		"stalled":                        {profile(map[string]any{"conditions": []any{map[string]any{"type": "Stalled", "status": "True", "message": "owner conflict"}}}), false, "failed: owner conflict"},
	} {
		t.Run(name, func(t *testing.T) {
			s := evaluate(tc.u, Target{})
			if s.ready != tc.ready || !strings.Contains(s.reason, tc.why) {
				t.Fatalf("ready %v (%s), want %v (%s)", s.ready, s.reason, tc.ready, tc.why)
			}
		})
	}
}
