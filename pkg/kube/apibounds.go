package kube

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// celMinor is the first Kubernetes minor that enforces CRD validation rules
// (x-kubernetes-validations): 1.21 and 1.22 refuse CRDs carrying them, 1.23 and 1.24 drop them.
const celMinor = 25

// APIProblems lists, before any change, what of objs the server cannot take: kinds it does not
// serve (and no CRD among objs defines), and, on Kubernetes older than 1.25, CRDs carrying CEL
// validation rules. Each entry is a sentence for a preflight's error list; none means the
// server's APIs fit. minor is the server's Kubernetes 1.x minor (0 skips the CEL check).
func APIProblems(dc discovery.DiscoveryInterface, minor int, objs []*unstructured.Unstructured) []string {
	var out []string
	if missing := UnservedKinds(dc, objs); len(missing) > 0 {
		out = append(out, "these API kinds are not served by this cluster: "+strings.Join(missing, ", "))
	}
	if minor > 0 && minor < celMinor {
		if cel := CRDsWithCEL(objs); len(cel) > 0 {
			out = append(out, fmt.Sprintf("these CRDs carry CEL validation rules (x-kubernetes-validations), which Kubernetes 1.%d does not serve (1.25 and newer do): %s", minor, strings.Join(cel, ", ")))
		}
	}
	return out
}

// CRDsWithCEL lists the names of the CRDs among objs whose schema holds x-kubernetes-validations.
func CRDsWithCEL(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && holdsKey(o.Object["spec"], "x-kubernetes-validations") {
			out = append(out, o.GetName())
		}
	}
	sort.Strings(out)
	return out
}

func holdsKey(v any, key string) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			if k == key || holdsKey(child, key) {
				return true
			}
		}
	case []any:
		for _, child := range t {
			if holdsKey(child, key) {
				return true
			}
		}
	}
	return false
}

// UnservedKinds lists "group/version Kind (count)" for the kinds of objs that the server does not
// serve and no CRD among objs defines.
func UnservedKinds(dc discovery.DiscoveryInterface, objs []*unstructured.Unstructured) []string {
	fromCRDs := map[schema.GroupVersionKind]bool{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		gk := CRDGroupKind(o)
		versions, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "versions") // no copy of the schemas
		list, _ := versions.([]any)
		for _, v := range list {
			if m, ok := v.(map[string]any); ok {
				if name, _ := m["name"].(string); name != "" {
					fromCRDs[gk.WithVersion(name)] = true
				}
			}
		}
		if v, _, _ := unstructured.NestedString(o.Object, "spec", "version"); v != "" {
			fromCRDs[gk.WithVersion(v)] = true
		}
	}
	served := map[string]map[string]bool{}
	count := map[string]int{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if fromCRDs[gvk] {
			continue
		}
		gv := gvk.GroupVersion().String()
		kinds, ok := served[gv]
		if !ok {
			kinds = map[string]bool{}
			// An error means the group version is not served (the cached discovery client does not
			// return a typed NotFound); an unreachable server fails the other checks anyway.
			list, err := dc.ServerResourcesForGroupVersion(gv)
			if err == nil && list != nil {
				for _, r := range list.APIResources {
					kinds[r.Kind] = true
				}
			}
			served[gv] = kinds
		}
		if !kinds[gvk.Kind] {
			count[gv+" "+gvk.Kind]++
		}
	}
	out := make([]string, 0, len(count))
	for k, n := range count {
		out = append(out, fmt.Sprintf("%s (%d)", k, n))
	}
	sort.Strings(out)
	return out
}
