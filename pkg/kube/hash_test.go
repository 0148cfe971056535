package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
)

func TestValueHashIsCanonical(t *testing.T) {
	a := map[string]any{"b": int64(1), "a": []any{"x", map[string]any{"z": nil, "y": true}}}
	b := map[string]any{"a": []any{"x", map[string]any{"y": true, "z": nil}}, "b": int64(1)}
	if valueHash(a) != valueHash(b) {
		t.Fatal("the same value in another map order hashed differently")
	}
	// Values that a careless encoding would run together.
	distinct := []any{
		nil, false, true, "", "1", int64(1), float64(1), int64(-1),
		[]any{}, []any{nil}, []any{"ab", "c"}, []any{"a", "bc"}, []any{[]any{"a"}, "b"}, []any{[]any{"a", "b"}},
		map[string]any{}, map[string]any{"a": "b"}, map[string]any{"ab": ""}, map[string]any{"a": []any{"b"}},
		map[string]any{"a": map[string]any{"b": "c"}}, map[string]any{"a": map[string]any{}, "b": "c"},
		map[string]string{"a": "b"}, // not an API machinery type: hashed as its JSON, still distinct
	}
	seen := map[string]int{}
	for i, v := range distinct {
		h := valueHash(v)
		if j, ok := seen[h]; ok {
			t.Errorf("values %d (%#v) and %d (%#v) share hash %s", j, distinct[j], i, v, h)
		}
		seen[h] = i
	}
	long := make([]byte, 100<<10) // longer than the writer's buffer
	for i := range long {
		long[i] = byte('a' + i%26)
	}
	if valueHash(string(long)) == valueHash(string(long[:len(long)-1])+"b") {
		t.Error("two long strings that differ in their last byte share a hash")
	}
}

// bigObject is shaped like a CRD with its schemas: wide, deep and mostly strings.
func bigObject() map[string]any {
	props := map[string]any{}
	for i := range 400 {
		props[fmt.Sprintf("field%03d", i)] = map[string]any{
			"type": "string", "description": "A field of the schema, described at some length as upstream CRDs do.",
			"x-kubernetes-int-or-string": true, "maxLength": int64(253),
			"enum": []any{"One", "Two", "Three"},
		}
	}
	return map[string]any{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "things.example.com", "labels": map[string]any{"a": "b"}},
		"spec":     map[string]any{"versions": []any{map[string]any{"name": "v1", "schema": map[string]any{"openAPIV3Schema": map[string]any{"properties": props}}}}}}
}

func BenchmarkValueHash(b *testing.B) {
	o := bigObject()
	for b.Loop() {
		valueHash(o)
	}
}

// BenchmarkJSONHash is what valueHash replaced, for comparison.
func BenchmarkJSONHash(b *testing.B) {
	o := bigObject()
	for b.Loop() {
		raw, _ := json.Marshal(o)
		sum := sha256.Sum256(raw)
		_ = hex.EncodeToString(sum[:16])
	}
}
