package benchkit

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

const floorSet = `
- apiVersion: v1
  kind: Namespace
  metadata: {name: a}
- apiVersion: v1
  kind: ServiceAccount
  metadata: {name: hook, namespace: a}
- apiVersion: admissionregistration.k8s.io/v1
  kind: ValidatingWebhookConfiguration
  metadata: {name: v}
  webhooks:
  - name: v.example.com
    clientConfig:
      caBundle: ""
      service: {name: hook, namespace: a}
- apiVersion: v1
  kind: Service
  metadata: {name: hook, namespace: a}
  spec: {selector: {app: hook}}
- apiVersion: v1
  kind: Service
  metadata: {name: other, namespace: a}
  spec: {selector: {app: other}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: hook, namespace: a}
  spec: {template: {metadata: {labels: {app: hook, tier: x}}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: hook, namespace: b}
  spec: {template: {metadata: {labels: {app: hook}}}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: other, namespace: a}
  spec: {template: {metadata: {labels: {app: other}}}}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: c, namespace: a}
`

func floorObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	var raw []map[string]any
	if err := yaml.Unmarshal([]byte(floorSet), &raw); err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, r := range raw {
		out = append(out, &unstructured.Unstructured{Object: r})
	}
	return out
}

func TestWebhookBackendsPicksWhatTheWebhooksNeed(t *testing.T) {
	var got []string
	for _, o := range webhookBackends(floorObjects(t)) {
		got = append(got, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	want := []string{"Namespace /a", "ServiceAccount a/hook", "ValidatingWebhookConfiguration /v", "Service a/hook", "Deployment a/hook"}
	if len(got) != len(want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picked %v, want %v", got, want)
		}
	}
}

func TestWithoutInjectedCABundlesLeavesTheInputAlone(t *testing.T) {
	objs := floorObjects(t)
	out := withoutInjectedCABundles(objs)
	caBundle := func(o *unstructured.Unstructured) (string, bool) {
		hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
		v, found, _ := unstructured.NestedString(hooks[0].(map[string]any), "clientConfig", "caBundle")
		return v, found
	}
	if _, found := caBundle(out[2]); found {
		t.Errorf("caBundle still in the floor's copy: %v", out[2].Object)
	}
	if _, found := caBundle(objs[2]); !found {
		t.Errorf("the input lost its caBundle")
	}
	if out[0] != objs[0] {
		t.Errorf("objects other than webhook configurations should be passed through")
	}
}
