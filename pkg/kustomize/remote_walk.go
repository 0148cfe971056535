package kustomize

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// entryFields are the kustomization fields whose entries name resources, bases or components.
var entryFields = []string{"resources", "bases", "components", "crds"}

// walker visits the kustomizations a build reaches from a folder. onRemote is called for each
// remote entry with the kustomization's folder; a non-empty replacement rewrites the entry, a
// non-empty follow is walked next.
type walker struct {
	fs       filesys.FileSystem
	visited  map[string]bool
	onRemote func(kdir, entry string) (replacement, follow string, err error)
}

// edit replaces the value of one scalar entry.
type edit struct {
	node  *yaml.Node
	value string
}

func (w *walker) walk(dir string) error {
	dir = filepath.Clean(dir)
	if w.visited[dir] {
		return nil
	}
	w.visited[dir] = true
	kfile := ""
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if p := filepath.Join(dir, n); w.fs.Exists(p) && !w.fs.IsDir(p) {
			kfile = p
			break
		}
	}
	if kfile == "" {
		return nil
	}
	data, err := w.fs.ReadFile(kfile)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %v", kfile, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: not a kustomization (want a YAML mapping)", kfile)
	}
	var edits []edit
	for i := 0; i+1 < len(root.Content); i += 2 {
		if !slices.Contains(entryFields, root.Content[i].Value) || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range root.Content[i+1].Content {
			if item.Kind != yaml.ScalarNode || item.Value == "" {
				continue
			}
			entry := item.Value
			local := entry
			if !filepath.IsAbs(local) {
				local = filepath.Join(dir, entry)
			}
			if isHTTPURL(entry) || (looksLikeGit(entry) && !w.fs.Exists(local)) {
				repl, follow, err := w.onRemote(dir, entry)
				if err != nil {
					return fmt.Errorf("%s: %w", kfile, err)
				}
				if repl != "" {
					edits = append(edits, edit{item, repl})
				}
				if follow != "" {
					if err := w.walk(follow); err != nil {
						return err
					}
				}
			} else if w.fs.IsDir(local) {
				if err := w.walk(local); err != nil {
					return err
				}
			}
		}
	}
	if len(edits) == 0 {
		return nil
	}
	out, err := applyEdits(data, &doc, edits)
	if err != nil {
		return fmt.Errorf("%s: %v", kfile, err)
	}
	return w.fs.WriteFile(kfile, out)
}

// plainSafe is a value that can be written as a plain (or simply quoted) YAML scalar.
var plainSafe = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._/@%+-]*$`)

// applyEdits replaces each edited scalar in place in data, keeping every other byte (comments,
// indentation, quoting); when a scalar cannot be located exactly the document is re-encoded.
func applyEdits(data []byte, doc *yaml.Node, edits []edit) ([]byte, error) {
	type span struct {
		start, end int
		text       string
	}
	starts := []int{0}
	for i, b := range data {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	var spans []span
	for _, e := range edits {
		start, end, quote, ok := scalarSpan(data, starts, e.node)
		if !ok || !plainSafe.MatchString(e.value) {
			return reencode(doc, edits)
		}
		spans = append(spans, span{start, end, quote + e.value + quote})
	}
	slices.SortFunc(spans, func(a, b span) int { return b.start - a.start })
	out := append([]byte(nil), data...)
	for _, s := range spans {
		out = append(out[:s.start], append([]byte(s.text), out[s.end:]...)...)
	}
	return out, nil
}

// scalarSpan finds the bytes of a plain, single- or double-quoted scalar from its line and
// column (counted in characters), checking they hold exactly its value.
func scalarSpan(data []byte, starts []int, n *yaml.Node) (start, end int, quote string, ok bool) {
	if n.Line < 1 || n.Line > len(starts) || n.Column < 1 {
		return 0, 0, "", false
	}
	off := starts[n.Line-1]
	for c := 1; c < n.Column && off < len(data); c++ {
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	switch n.Style {
	case 0:
	case yaml.DoubleQuotedStyle:
		quote = `"`
	case yaml.SingleQuotedStyle:
		quote = "'"
	default:
		return 0, 0, "", false
	}
	raw := quote + n.Value + quote
	if !bytes.HasPrefix(data[off:], []byte(raw)) {
		return 0, 0, "", false
	}
	return off, off + len(raw), quote, true
}

// reencode is the fallback of applyEdits: the document written anew (comments kept by the
// encoder, layout normalized).
func reencode(doc *yaml.Node, edits []edit) ([]byte, error) {
	for _, e := range edits {
		e.node.Value, e.node.Style = e.value, yaml.DoubleQuotedStyle
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
