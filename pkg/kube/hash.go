package kube

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math"
	"slices"
	"sync"
)

// valueHash hashes a JSON-like value as the API machinery decodes it (maps, slices, strings,
// int64, float64, bool, nil) in a canonical form: map keys in order, every value tagged with its
// type, strings and containers with their length, so two different values never share an
// encoding. It is what the apply record compares on every re-run, for hundreds of objects: it
// walks the value once, with no reflection and no encoded copy (json.Marshal of a CRD with its
// schemas cost a re-run a fifth of its CPU). Any other Go type is hashed as its JSON. The value
// of a key "openAPIV3Schema" (a CRD version's schema, the bulk of a CRD) enters as its own
// digest (SchemaDigest), so an object whose schemas are placeholders (SchemaPlaceholder, as a
// cached build holds them until they are sent) hashes the same as the whole object.
func valueHash(v any) string {
	w := hashWriters.Get().(*hashWriter)
	defer hashWriters.Put(w)
	w.h.Reset()
	w.value(v)
	w.flush()
	return hex.EncodeToString(w.h.Sum(w.sum[:0])[:16])
}

// hashWriters keeps writers (and their buffers) between the objects of a run.
var hashWriters = sync.Pool{New: func() any {
	return &hashWriter{h: sha256.New(), buf: make([]byte, 0, 32<<10)}
}}

type hashWriter struct {
	h     hash.Hash
	buf   []byte
	sum   [sha256.Size]byte
	keys  [][]string // one reusable key slice per map depth
	depth int
}

func (w *hashWriter) flush() {
	w.h.Write(w.buf)
	w.buf = w.buf[:0]
}

func (w *hashWriter) grow(n int) {
	if len(w.buf)+n > cap(w.buf) {
		w.flush()
	}
}

func (w *hashWriter) tag(t byte, n uint64) {
	w.grow(1 + binary.MaxVarintLen64)
	w.buf = append(w.buf, t)
	w.buf = binary.AppendUvarint(w.buf, n)
}

func (w *hashWriter) str(t byte, s string) {
	w.tag(t, uint64(len(s)))
	if len(s) > cap(w.buf) {
		w.flush()
		w.h.Write([]byte(s))
		return
	}
	w.grow(len(s))
	w.buf = append(w.buf, s...)
}

func (w *hashWriter) value(v any) {
	switch v := v.(type) {
	case nil:
		w.tag('n', 0)
	case bool:
		if v {
			w.tag('b', 1)
		} else {
			w.tag('b', 0)
		}
	case string:
		w.str('s', v)
	case int64:
		w.tag('i', uint64(v))
	case float64:
		w.tag('f', math.Float64bits(v))
	case []any:
		w.tag('a', uint64(len(v)))
		for _, e := range v {
			w.value(e)
		}
	case map[string]any:
		w.object(v)
	default:
		b, _ := json.Marshal(v)
		w.str('j', string(b))
	}
}

func (w *hashWriter) object(m map[string]any) {
	if w.depth == len(w.keys) {
		w.keys = append(w.keys, nil)
	}
	keys := w.keys[w.depth][:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.tag('m', uint64(len(keys)))
	w.depth++
	for _, k := range keys {
		w.str('k', k)
		if k == SchemaKey {
			if d, ok := schemaDigestOf(m[k]); ok {
				w.str('S', d)
				continue
			}
		}
		w.value(m[k])
	}
	w.depth--
	w.keys[w.depth] = keys[:0] // its capacity serves the next map at this depth
}

// SchemaKey is where a CRD version holds its schema (spec.versions[].schema.openAPIV3Schema):
// the key whose value valueHash hashes apart (see SchemaDigest).
const SchemaKey = "openAPIV3Schema"

// placeholderKey is the one key of a schema placeholder: a NUL-led key no API object has, so a
// placeholder cannot be taken for a schema, and one sent by mistake is refused by the API server.
const placeholderKey = "\x00flexigrobots-schema-digest"

// SchemaDigest is the digest a CRD version's openAPIV3Schema enters the apply record's hash with.
func SchemaDigest(schema map[string]any) string {
	return valueHash(schema)
}

// SchemaPlaceholder stands for a schema of the given digest in an object whose schemas are
// decoded only when it is sent (see Applier.Complete): it hashes as the schema it stands for.
func SchemaPlaceholder(digest string) map[string]any {
	return map[string]any{placeholderKey: digest}
}

// PlaceholderDigest returns the digest a SchemaPlaceholder stands for; false for anything else.
func PlaceholderDigest(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return "", false
	}
	d, ok := m[placeholderKey].(string)
	return d, ok
}

// schemaDigestOf is the digest of a schema value or placeholder; false for a value that is no map.
func schemaDigestOf(v any) (string, bool) {
	if d, ok := PlaceholderDigest(v); ok {
		return d, true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	return SchemaDigest(m), true
}
