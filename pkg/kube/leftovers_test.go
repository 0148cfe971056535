package kube

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCreatedByUs(t *testing.T) {
	entry := func(manager, sub, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Subresource: sub, FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	for name, tc := range map[string]struct {
		entries []metav1.ManagedFieldsEntry
		want    bool
	}{
		"ours alone":                   {[]metav1.ManagedFieldsEntry{entry(FieldManager, "", `{"f:metadata":{}}`)}, true},
		"status by the API server":     {[]metav1.ManagedFieldsEntry{entry(FieldManager, "", `{"f:spec":{}}`), entry("kube-apiserver", "status", `{"f:status":{}}`)}, true},
		"1.21 status, no subresource":  {[]metav1.ManagedFieldsEntry{entry(FieldManager, "", `{"f:spec":{}}`), entry("kube-apiserver", "", `{"f:status":{}}`)}, true},
		"someone else's spec field":    {[]metav1.ManagedFieldsEntry{entry(FieldManager, "", `{"f:spec":{}}`), entry("kubectl-edit", "", `{"f:spec":{}}`)}, false},
		"made by kubectl create":       {[]metav1.ManagedFieldsEntry{entry("kubectl-create", "", `{"f:metadata":{}}`)}, false},
		"no managed fields (unknowns)": {nil, false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := createdByUs(&metav1.ObjectMeta{ManagedFields: tc.entries}); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
