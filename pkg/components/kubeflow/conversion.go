package kubeflow

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// crdVersions is what a build's CRD says about one kind: its storage version, the storage
// version's schema, and whether versions convert through a webhook.
type crdVersions struct {
	storage string
	schema  map[string]any
	webhook bool
}

// AtStorageVersion rewrites objects whose CRD (in the same build) converts versions with a
// webhook to the CRD's storage version, when the conversion is exact: every field the object sets
// exists at the same path in the storage version's schema.
//
// Why: Kubeflow v1.5.0 ships 4 cert-manager.io/v1alpha2 objects (kfserving's Issuer and
// Certificate) while cert-manager's CRDs store v1 and convert through cert-manager's webhook.
// Creating them at v1alpha2 fails until that webhook serves, which the runbook's loop papers over
// with re-runs. Their fields (selfSigned, commonName, dnsNames, issuerRef, secretName) are
// identical in v1, so applying them at v1 is the same object, needs no webhook, and keeps the
// install to one pass in the engine's phase order. Waiting for the webhook instead would tie the
// install to cert-manager's pod being reachable from the API server, which the schema check makes
// unnecessary. Objects using renamed fields (e.g. v1alpha2 keyAlgorithm) are left as they are:
// the engine retries them as transient until the conversion webhook answers.
func AtStorageVersion(objs []*unstructured.Unstructured) []Edit {
	crds := map[schema.GroupKind]crdVersions{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		gk := kube.CRDGroupKind(o)
		strategy, _, _ := unstructured.NestedString(o.Object, "spec", "conversion", "strategy")
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			m, _ := v.(map[string]any)
			if st, _ := m["storage"].(bool); st {
				s, _, _ := unstructured.NestedMap(m, "schema", "openAPIV3Schema")
				crds[gk] = crdVersions{storage: m["name"].(string), schema: s, webhook: strategy == "Webhook"}
			}
		}
	}
	var edits []Edit
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		c, ok := crds[gvk.GroupKind()]
		if !ok || !c.webhook || c.storage == gvk.Version || c.schema == nil {
			continue
		}
		exact := true
		for k, v := range o.Object {
			switch k {
			case "apiVersion", "kind", "metadata", "status":
				continue
			}
			props, _, _ := unstructured.NestedMap(c.schema, "properties")
			sub, ok := props[k].(map[string]any)
			if !ok || !fieldsExist(v, sub) {
				exact = false
				break
			}
		}
		if !exact {
			continue
		}
		ref := kube.Ref(o)
		o.SetAPIVersion(schema.GroupVersion{Group: gvk.Group, Version: c.storage}.String())
		edits = append(edits, Edit{File: "(build)", What: fmt.Sprintf("%s applied at %s, the CRD's storage version: its fields are identical there, so no conversion webhook is needed", ref, o.GetAPIVersion())})
	}
	return edits
}

// fieldsExist tells whether every field of v is declared at the same path in the schema s.
func fieldsExist(v any, s map[string]any) bool {
	if p, _ := s["x-kubernetes-preserve-unknown-fields"].(bool); p {
		return true
	}
	switch x := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		add, hasAdd := s["additionalProperties"]
		for k, val := range x {
			if sub, ok := props[k].(map[string]any); ok {
				if !fieldsExist(val, sub) {
					return false
				}
				continue
			}
			if !hasAdd {
				return false
			}
			if sub, ok := add.(map[string]any); ok && !fieldsExist(val, sub) {
				return false
			}
		}
		return true
	case []any:
		items, _ := s["items"].(map[string]any)
		for _, it := range x {
			if items == nil || !fieldsExist(it, items) {
				return false
			}
		}
	}
	return true
}
