package kube

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func TestDropInjectedCABundles(t *testing.T) {
	cases := []struct {
		name, in string
		path     []string // where the caBundle sits
		dropped  bool
	}{
		{"webhook under inject-ca-from, shipped empty", `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: a, annotations: {cert-manager.io/inject-ca-from: kubeflow/cert}}
webhooks: [{name: w, clientConfig: {caBundle: "", service: {name: s, namespace: n}}}]`, nil, true},
		{"webhook under inject-ca-from-secret with a placeholder CA", `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: a, annotations: {cert-manager.io/inject-ca-from-secret: cert-manager/ca}}
webhooks: [{name: w, clientConfig: {caBundle: "LS0tLS1CRUdJTg==", service: {name: s, namespace: n}}}]`, nil, true},
		{"webhook shipped with a newline placeholder (Kubeflow v1.5)", `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: a}
webhooks: [{name: w, clientConfig: {caBundle: "Cg==", service: {name: s, namespace: n}}}]`, nil, true},
		{"webhook with the user's own CA and no annotation: kept", `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: a}
webhooks: [{name: w, clientConfig: {caBundle: "LS0tLS1CRUdJTg==", service: {name: s, namespace: n}}}]`, nil, false},
		{"CRD conversion under inject-ca-from", `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: a, annotations: {cert-manager.io/inject-ca-from: kserve/serving-cert}}
spec: {conversion: {strategy: Webhook, webhook: {clientConfig: {caBundle: "Cg==", service: {name: s, namespace: n}}}}}`,
			[]string{"spec", "conversion", "webhook", "clientConfig"}, true},
		{"v1beta1 CRD conversion shipped empty", `
apiVersion: apiextensions.k8s.io/v1beta1
kind: CustomResourceDefinition
metadata: {name: a}
spec: {conversion: {strategy: Webhook, webhookClientConfig: {caBundle: "", service: {name: s, namespace: n}}}}`,
			[]string{"spec", "conversion", "webhookClientConfig"}, true},
		{"APIService under inject-apiserver-ca", `
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.x, annotations: {cert-manager.io/inject-apiserver-ca: "true"}}
spec: {caBundle: "LS0tLS1CRUdJTg==", group: x, version: v1}`, []string{"spec"}, true},
		{"a ConfigMap with a caBundle key: not ours to touch", `
apiVersion: v1
kind: ConfigMap
metadata: {name: a, annotations: {cert-manager.io/inject-ca-from: x/y}}
data: {caBundle: ""}`, []string{"data"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(tc.in), &o.Object); err != nil {
				t.Fatal(err)
			}
			dropInjectedCABundles(o)
			var holder map[string]any
			if tc.path == nil {
				hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
				holder = hooks[0].(map[string]any)["clientConfig"].(map[string]any)
			} else {
				var found bool
				holder, found, _ = unstructured.NestedMap(o.Object, tc.path...)
				if !found {
					t.Fatalf("%v is gone", tc.path)
				}
			}
			_, has := holder["caBundle"]
			if has == tc.dropped {
				t.Fatalf("caBundle present=%v, want dropped=%v: %v", has, tc.dropped, holder)
			}
			if _, svc := holder["service"]; tc.path == nil && !svc {
				t.Fatal("the rest of clientConfig was dropped too")
			}
		})
	}
}
