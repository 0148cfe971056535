package kube

import (
	"encoding/base64"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// injectAnnotations are cert-manager cainjector's: an object carrying one has its caBundle
// fields written by the injector.
var injectAnnotations = []string{
	"cert-manager.io/inject-ca-from",
	"cert-manager.io/inject-ca-from-secret",
	"cert-manager.io/inject-apiserver-ca",
}

// dropInjectedCABundles removes from o the caBundle fields an in-cluster injector owns, so our
// apply never claims them: a re-run after the injector wrote the CA would otherwise conflict
// with it (or, forced, wipe the CA and break every call to the webhook until the injector puts
// it back). A caBundle is the injector's when the object asks cert-manager to inject it, or
// when it is shipped empty (istiod, knative's webhook, MetalLB's controller and
// training-operator patch their own configurations). A non-empty caBundle on an object without
// an inject annotation is the user's and is applied as given.
//
// The fields: webhooks[].clientConfig.caBundle of Mutating/ValidatingWebhookConfigurations,
// a CRD's conversion webhook caBundle (apiextensions v1 and v1beta1), an APIService's
// spec.caBundle.
func dropInjectedCABundles(o *unstructured.Unstructured) {
	gk := o.GroupVersionKind().GroupKind()
	injected := hasInjectAnnotation(o)
	drop := func(m map[string]any) {
		if m == nil {
			return
		}
		if v, ok := m["caBundle"]; ok && (injected || emptyCABundle(v)) {
			delete(m, "caBundle")
		}
	}
	switch {
	case gk.Group == "admissionregistration.k8s.io" && (gk.Kind == "MutatingWebhookConfiguration" || gk.Kind == "ValidatingWebhookConfiguration"):
		hooks, _ := o.Object["webhooks"].([]any)
		for _, h := range hooks {
			if hm, ok := h.(map[string]any); ok {
				cc, _ := hm["clientConfig"].(map[string]any)
				drop(cc)
			}
		}
	case gk.Group == "apiextensions.k8s.io" && gk.Kind == "CustomResourceDefinition":
		spec, _ := o.Object["spec"].(map[string]any)
		conv, _ := spec["conversion"].(map[string]any)
		if conv == nil {
			return
		}
		wh, _ := conv["webhook"].(map[string]any)
		cc, _ := wh["clientConfig"].(map[string]any)
		drop(cc)
		legacy, _ := conv["webhookClientConfig"].(map[string]any) // apiextensions.k8s.io/v1beta1
		drop(legacy)
	case gk.Group == "apiregistration.k8s.io" && gk.Kind == "APIService":
		spec, _ := o.Object["spec"].(map[string]any)
		drop(spec)
	}
}

func hasInjectAnnotation(o *unstructured.Unstructured) bool {
	ann := o.GetAnnotations()
	for _, a := range injectAnnotations {
		if _, ok := ann[a]; ok {
			return true
		}
	}
	return false
}

// emptyCABundle tells whether a caBundle value holds no certificate: null, "", or base64 of
// whitespace (Kubeflow v1.5 ships "Cg==", a newline, as its placeholder).
func emptyCABundle(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	return strings.TrimSpace(string(b)) == ""
}
