package kubeflow

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// The CRDs' schemas are about nine tenths of a cached build's bytes (Kubeflow 26.03: 74 CRDs),
// and a re-run that changes nothing sends none of them: the apply record skips every CRD by its
// hash, in which a schema enters as its digest (kube.SchemaDigest). So the build cache keeps the
// schemas apart, each encoded once under its digest in the entry's schemas file (uncompressed,
// beside the gzipped entry, read only when a schema is needed); a cached build's CRD versions
// hold a placeholder (kube.SchemaPlaceholder) as their openAPIV3Schema. With LazySchemas a
// schema is decoded only for a CRD the apply sends (kube.Applier.Complete), or for all of them
// when a reader needs them whole (CompleteAll: render, the CEL preflight before 1.25, an image
// rewrite); without it, when the build is read.

// schemasFile is where the entry file's schemas are.
func schemasFile(entry string) string {
	return strings.TrimSuffix(entry, ".cbor.gz") + ".schemas.cbor"
}

// schemaFile is the schemas file of a cached build, read whole at the first schema needed.
type schemaFile struct {
	entry string // the gzipped entry whose schemas these are
	path  string
	index map[string][2]int64 // digest -> offset, length
	once  sync.Once
	data  []byte
	err   error
}

// schema returns the encoding of the schema of digest d.
func (f *schemaFile) schema(d string) ([]byte, error) {
	f.once.Do(func() { f.data, f.err = os.ReadFile(f.path) })
	if f.err != nil {
		return nil, f.err
	}
	at, ok := f.index[d]
	if !ok || at[0] < 0 || at[1] < 0 || at[0]+at[1] > int64(len(f.data)) {
		return nil, fmt.Errorf("%s holds no schema %s", f.path, d)
	}
	return f.data[at[0] : at[0]+at[1]], nil
}

// splitSchemas returns a copy of the CRD o whose schemas are placeholders, appending each schema
// not yet in index to data and noting where; o itself is left whole. Other objects are returned
// as they are.
func splitSchemas(o map[string]any, index map[string][2]int64, data *bytes.Buffer) (map[string]any, error) {
	return mapSchemas(o, func(schema any) (any, bool, error) {
		m, ok := schema.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		d := kube.SchemaDigest(m)
		if _, done := index[d]; !done {
			raw, err := direct.Marshal(m)
			if err != nil {
				return nil, false, err
			}
			index[d] = [2]int64{int64(data.Len()), int64(len(raw))}
			data.Write(raw)
		}
		return kube.SchemaPlaceholder(d), true, nil
	})
}

// Complete decodes the schemas the CRD o holds as placeholders (o from this build, or a copy of
// one sharing its values: the containers on the way to a schema are copied, never edited). Each
// schema must match the digest it replaces.
func (b *Built) Complete(o *unstructured.Unstructured) error {
	if b.schemas == nil {
		return nil
	}
	full, err := mapSchemas(o.Object, func(schema any) (any, bool, error) {
		d, ok := kube.PlaceholderDigest(schema)
		if !ok {
			return nil, false, nil
		}
		raw, err := b.schemas.schema(d)
		var m map[string]any
		if err == nil {
			err = direct.Unmarshal(raw, &m)
		}
		if err == nil && kube.SchemaDigest(m) != d {
			err = fmt.Errorf("it does not match its digest")
		}
		if err != nil {
			// Gone with its entry, so the next run builds again.
			_ = os.Remove(b.schemas.entry)
			return nil, false, fmt.Errorf("%s: the build cache's schema %s is missing or corrupt (%v): the entry is removed, run again to build anew", kube.Ref(o), d, err)
		}
		return m, true, nil
	})
	if err != nil {
		return err
	}
	o.Object = full
	return nil
}

// CompleteAll decodes every schema the build holds as a placeholder, for readers that need the
// objects whole.
func (b *Built) CompleteAll() error {
	for _, o := range b.Objects {
		if err := b.Complete(o); err != nil {
			return err
		}
	}
	b.schemas = nil
	return nil
}

// mapSchemas returns o with each CRD version's openAPIV3Schema replaced by f's value where f says
// so: the maps and slices on the way to a replaced schema are copies, everything else is shared
// with o; o itself when f replaced nothing or o is no CRD.
func mapSchemas(o map[string]any, f func(any) (any, bool, error)) (map[string]any, error) {
	if o["kind"] != "CustomResourceDefinition" {
		return o, nil
	}
	spec, _ := o["spec"].(map[string]any)
	versions, _ := spec["versions"].([]any)
	var out []any // a copy, made at the first schema replaced
	for i, v := range versions {
		vm, _ := v.(map[string]any)
		sch, _ := vm["schema"].(map[string]any)
		old, ok := sch[kube.SchemaKey]
		if !ok {
			continue
		}
		repl, replaced, err := f(old)
		if err != nil {
			return nil, err
		}
		if !replaced {
			continue
		}
		if out == nil {
			out = slices.Clone(versions)
		}
		vm, sch = maps.Clone(vm), maps.Clone(sch)
		sch[kube.SchemaKey] = repl
		vm["schema"] = sch
		out[i] = vm
	}
	if out == nil {
		return o, nil
	}
	spec = maps.Clone(spec)
	spec["versions"] = out
	c := maps.Clone(o)
	c["spec"] = spec
	return c, nil
}
