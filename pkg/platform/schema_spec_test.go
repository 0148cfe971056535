package platform

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

// TestSchemaIsTheSpecs: the published schema and the sections' Spec types describe the same
// file: every property of a section's block (nested blocks included) is a json field of its
// Spec, and every json field of the Spec is a property, so neither can drift from the other.
// The properties of spec are the sections' blocks and the spec-wide defaults (images.Registry's
// fields, see specDefaults), which are json fields of each block that has them too.
func TestSchemaIsTheSpecs(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(schema.Platform, &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["$defs"].(map[string]any)
	resolve := func(n map[string]any) map[string]any {
		for {
			ref, ok := n["$ref"].(string)
			if !ok {
				return n
			}
			n = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
	}
	blocks := doc["properties"].(map[string]any)["spec"].(map[string]any)["properties"].(map[string]any)
	var names []string
	for n := range blocks {
		names = append(names, n)
	}
	slices.Sort(names)
	want := registry.Names()
	for n := range jsonFields(reflect.TypeOf(specDefaults{})) {
		want = append(want, n)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("schema's spec properties %v, want the registry's sections and the spec-wide defaults %v", names, want)
	}
	var compare func(path string, node map[string]any, typ reflect.Type)
	compare = func(path string, node map[string]any, typ reflect.Type) {
		node = resolve(node)
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if items, ok := node["items"].(map[string]any); ok {
				node = resolve(items)
			}
		}
		props, ok := node["properties"].(map[string]any)
		if typ.Kind() != reflect.Struct || !ok {
			return
		}
		fields := jsonFields(typ)
		for name, sub := range props {
			f, ok := fields[name]
			if !ok {
				t.Errorf("%s.%s: in the schema, not in %s", path, name, typ)
				continue
			}
			compare(path+"."+name, sub.(map[string]any), f)
		}
		for name := range fields {
			if _, ok := props[name]; !ok {
				t.Errorf("%s.%s: a json field of %s, not in the schema", path, name, typ)
			}
		}
	}
	for _, s := range registry.Sections {
		compare("spec."+s.Name(), blocks[s.Name()].(map[string]any), reflect.TypeOf(s.NewSpec()))
	}
	// A spec-wide default takes the values its field in a block takes.
	for name := range jsonFields(reflect.TypeOf(specDefaults{})) {
		def := resolve(blocks[name].(map[string]any))
		for _, s := range registry.Sections {
			props := resolve(blocks[s.Name()].(map[string]any))["properties"].(map[string]any)
			if sub, ok := props[name].(map[string]any); ok && !reflect.DeepEqual(resolve(sub), def) {
				t.Errorf("spec.%s.%s is not spec.%s's schema", s.Name(), name, name)
			}
		}
	}
}

// jsonFields maps the json names of a struct's fields (embedded structs' included) to their
// types; fields without a name (json:"-") are left out.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
