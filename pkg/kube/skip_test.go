package kube

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOwnedFieldsIgnoresKeyOrder: the server sends a field set in its own key order (here a
// Service's port keys before the f: keys, as kube-apiserver does), an unstructured read sorted;
// both hash the same, other sets and other managers do not.
func TestOwnedFieldsIgnoresKeyOrder(t *testing.T) {
	entry := func(manager, raw string) []metav1.ManagedFieldsEntry {
		return []metav1.ManagedFieldsEntry{{Manager: manager, Operation: metav1.ManagedFieldsOperationApply, FieldsV1: &metav1.FieldsV1{Raw: []byte(raw)}}}
	}
	server := `{"f:spec":{"f:ports":{"k:{\"port\":15010,\"protocol\":\"TCP\"}":{".":{},"f:name":{}},"k:{\"port\":443,\"protocol\":\"TCP\"}":{".":{}}},"f:selector":{}}}`
	sorted := `{"f:spec":{"f:ports":{"k:{\"port\":15010,\"protocol\":\"TCP\"}":{".":{},"f:name":{}},"k:{\"port\":443,\"protocol\":\"TCP\"}":{".":{}}},"f:selector":{}}}`
	reordered := `{"f:spec":{"f:selector":{},"f:ports":{"k:{\"port\":443,\"protocol\":\"TCP\"}":{".":{}},"k:{\"port\":15010,\"protocol\":\"TCP\"}":{"f:name":{},".":{}}}}}`
	want := ownedFields(entry(FieldManager, sorted), FieldManager)
	if want == "" {
		t.Fatal("no hash of the manager's own entry")
	}
	if got := ownedFields(entry(FieldManager, server), FieldManager); got != want {
		t.Errorf("server order: %s, sorted: %s", got, want)
	}
	if got := ownedFields(entry(FieldManager, reordered), FieldManager); got != want {
		t.Errorf("reordered keys hash %s, want %s", got, want)
	}
	if got := ownedFields(entry(FieldManager, `{"f:spec":{"f:selector":{}}}`), FieldManager); got == want {
		t.Error("another field set hashes the same")
	}
	if got := ownedFields(entry("kubectl", sorted), FieldManager); got != "" {
		t.Errorf("another manager's entry: %q, want none", got)
	}
}
