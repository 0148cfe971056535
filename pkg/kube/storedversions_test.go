package kube

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestDroppedLine(t *testing.T) {
	crd := func(spec map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": "poddefaults.kubeflow.org"}, "spec": spec}}
	}
	versions := func(names ...string) map[string]any {
		var l []any
		for _, n := range names {
			l = append(l, map[string]any{"name": n, "served": true})
		}
		return map[string]any{"versions": l}
	}
	for name, tc := range map[string]struct {
		crd    *unstructured.Unstructured
		stored []string
		want   string
	}{
		"kept":                    {crd(versions("v1alpha1", "v1")), []string{"v1alpha1"}, ""},
		"dropped":                 {crd(versions("v1")), []string{"v1alpha1", "v1"}, "stores its objects as v1alpha1, which the new build no longer defines (it defines v1)"},
		"v1beta1 single version":  {crd(map[string]any{"version": "v1"}), []string{"v1"}, ""},
		"v1beta1 version dropped": {crd(map[string]any{"version": "v2"}), []string{"v1"}, "as v1, which"},
		"no versions to compare":  {crd(map[string]any{}), []string{"v1"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			got := droppedLine(tc.crd, tc.stored)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
