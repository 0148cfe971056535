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

// TestSchemaPlaceholderHashesAsTheSchema: a CRD whose schema is a placeholder of the schema's
// digest hashes as the whole CRD (a cached build's re-run skips it by the record); another
// schema, or a placeholder of another digest, does not.
func TestSchemaPlaceholderHashesAsTheSchema(t *testing.T) {
	whole := bigObject()
	schemaOf := func(o map[string]any) map[string]any {
		return o["spec"].(map[string]any)["versions"].([]any)[0].(map[string]any)["schema"].(map[string]any)
	}
	withSchema := func(v any) map[string]any {
		o := bigObject()
		schemaOf(o)["openAPIV3Schema"] = v
		return o
	}
	digest := SchemaDigest(schemaOf(whole)["openAPIV3Schema"].(map[string]any))
	if d, ok := PlaceholderDigest(SchemaPlaceholder(digest)); !ok || d != digest {
		t.Fatalf("PlaceholderDigest(SchemaPlaceholder(%s)) = %s, %v", digest, d, ok)
	}
	if valueHash(withSchema(SchemaPlaceholder(digest))) != valueHash(whole) {
		t.Fatal("the CRD with its schema's placeholder hashes differently from the whole CRD")
	}
	other := withSchema(map[string]any{"type": "object"})
	if valueHash(other) == valueHash(whole) {
		t.Fatal("another schema hashed as the first")
	}
	if valueHash(withSchema(SchemaPlaceholder(SchemaDigest(map[string]any{"type": "object"})))) != valueHash(other) {
		t.Fatal("a placeholder of the other schema hashes differently from the CRD holding it")
	}
	if valueHash(withSchema(SchemaPlaceholder("0123"))) == valueHash(whole) {
		t.Fatal("a placeholder of another digest hashed as the whole CRD")
	}
	for _, notOne := range []any{map[string]any{"x": digest}, map[string]any{placeholderKey: digest, "type": "object"}, "text"} {
		if _, ok := PlaceholderDigest(notOne); ok {
			t.Fatalf("%#v taken for a placeholder", notOne)
		}
	}
}
