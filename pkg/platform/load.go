package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
)

// Load reads and validates the platform file at path. Every problem (YAML syntax, the schema:
// unknown fields, wrong types, bad values; the sections' own rules; secrets given inline; files
// that cannot be read) is reported at once with its line and column, as a usage error (exit 2).
func Load(path string) (*Platform, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, core.UsageErrorf("-f %s: %v", path, err)
	}
	return Parse(path, filepath.Dir(path), data)
}

// Parse validates data as the platform file named name, resolving relative paths against dir.
func Parse(name, dir string, data []byte) (*Platform, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, usage(&Errors{File: name, Problems: []Problem{{Line: yamlLine(err), Column: 1, Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}})
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, usage(&Errors{File: name, Problems: []Problem{{Line: extra.Line, Column: extra.Column, Message: "a second YAML document: the platform file holds one Platform"}}})
	}
	p := &problems{root: &root}
	inlineSecrets(&root, nil, p)

	var v any
	if err := root.Decode(&v); err != nil {
		return nil, usage(&Errors{File: name, Problems: []Problem{{Line: 1, Column: 1, Message: err.Error()}}})
	}
	doc, err := toJSON(v)
	if err != nil {
		return nil, usage(&Errors{File: name, Problems: []Problem{{Line: 1, Column: 1, Message: "every key must be a string: " + err.Error()}}})
	}
	if err := validateSchema(doc, p); err != nil {
		return nil, err
	}
	// A block the schema found wrong is not decoded; the others still are, so that their own
	// rules and files are reported in the same run.
	flawed := blocksWithProblems(p.list)
	pl := &Platform{Path: name, Dir: dir}
	var file struct {
		Header
		Spec map[string]json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(doc, &file); err != nil {
		if len(p.list) > 0 {
			return nil, usage(&Errors{File: name, Problems: p.sorted()})
		}
		return nil, usage(&Errors{File: name, Problems: []Problem{{Message: err.Error()}}})
	}
	pl.Header = file.Header
	defaults := specDefaultsOf(file.Spec, flawed, p)
	declared := false
	for _, sec := range registry.Sections {
		raw, ok := file.Spec[sec.Name()]
		declared = declared || ok
		if !ok || flawed[sec.Name()] {
			continue
		}
		spec, err := pl.decode(sec, raw, defaults, p)
		if err != nil {
			return nil, usage(&Errors{File: name, Problems: []Problem{{Path: "spec." + sec.Name(), Message: err.Error()}}})
		}
		pl.Blocks = append(pl.Blocks, Block{Section: sec, Spec: spec})
	}
	if !declared && len(p.list) == 0 {
		p.add([]string{"spec"}, false, "declares no section: give at least one block of %s (imageRegistry and imagePullSecrets here are only the blocks' defaults)", strings.Join(registry.Names(), ", "))
	}
	if len(p.list) > 0 {
		return nil, usage(&Errors{File: name, Problems: p.sorted()})
	}
	return pl, nil
}

// specDefaults are the fields of spec besides the sections' blocks: the spec-wide defaults of
// the blocks whose Spec has the same fields (images.RegistryAware), which a block's own values
// override.
type specDefaults struct {
	images.Registry
}

// specDefaultsOf reads the spec-wide defaults and adds their problems at spec.<field>. A default
// the schema or its own rules found wrong is left out (its problem is said once, not again in
// every block that would take it).
func specDefaultsOf(spec map[string]json.RawMessage, flawed map[string]bool, p *problems) specDefaults {
	var d specDefaults
	for field, into := range map[string]any{"imageRegistry": &d.Registry.Registry, "imagePullSecrets": &d.PullSecrets} {
		if raw, ok := spec[field]; ok && !flawed[field] {
			if err := json.Unmarshal(raw, into); err != nil {
				p.add([]string{"spec", field}, false, "%v", err) // the schema says it first; kept as a guard
			}
		}
	}
	ps := d.Registry.Validate()
	addProblems(p, []string{"spec"}, ps)
	if len(ps) > 0 {
		return specDefaults{}
	}
	return d
}

// inherit gives a block that left its image registry fields empty the spec-wide ones.
func (d specDefaults) inherit(spec section.Spec) {
	ra, ok := spec.(images.RegistryAware)
	if !ok {
		return
	}
	r := ra.ImageRegistry()
	if r.Registry == "" {
		r.Registry = d.Registry.Registry
	}
	if len(r.PullSecrets) == 0 {
		r.PullSecrets = slices.Clone(d.PullSecrets)
	}
}

// decode reads one block into its section's Spec as a command fills it from flags: the
// spec-wide defaults where the block left their fields empty, paths made relative to the file,
// defaults filled, then the Spec's rules and its files checked, every problem added at its field.
func (pl *Platform) decode(sec section.Section, raw json.RawMessage, defaults specDefaults, p *problems) (section.Spec, error) {
	spec := sec.NewSpec()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields() // the schema and the Spec must agree: a test holds them together
	if err := d.Decode(spec); err != nil {
		return nil, err
	}
	defaults.inherit(spec)
	fs, files := spec.(section.FileSpec)
	if files {
		fs.Resolve(pl.resolve)
	}
	spec.Default()
	ps := spec.Validate()
	if files {
		ps = append(ps, fs.Load()...)
	}
	addProblems(p, []string{"spec", sec.Name()}, ps)
	return spec, nil
}

// addProblems adds ps, whose fields are relative to the document path at, each at its field
// (the {field} references of its message rendered as document paths too).
func addProblems(p *problems, at []string, ps core.Problems) {
	for _, pr := range ps {
		path := join(at, fieldTokens(pr.Field)...)
		msg := core.Render(pr.Message, func(f string) string { return pathString(join(at, fieldTokens(f)...)) })
		p.add(path, false, "%s", msg)
	}
}

// fieldTokens splits a field path ("operator.chart.certFile", "addresses[1]") into the tokens
// of a document path.
func fieldTokens(field string) []string {
	var out []string
	for _, part := range strings.Split(field, ".") {
		if part == "" {
			continue
		}
		name, idx, _ := strings.Cut(part, "[")
		if name != "" {
			out = append(out, name)
		}
		for idx != "" {
			n, rest, _ := strings.Cut(idx, "]")
			out = append(out, n)
			idx = strings.TrimPrefix(rest, "[")
		}
	}
	return out
}

func usage(e *Errors) error { return &core.ExitError{Code: core.ExitUsage, Err: e} }

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// secretName matches field names that hold a secret value; the file holds them only as
// ...File references.
var secretName = regexp.MustCompile(`(?i)(secret|password|passwd|token|privatekey|apikey)$|^(key|cert|certificate)$`)

// pullSecret matches field names that name a pull Secret (imagePullSecret, misspelt for
// imagePullSecrets): a Secret's name, not a secret value.
var pullSecret = regexp.MustCompile(`(?i)pullsecret$`)

// inlineSecrets reports every mapping key that names a secret value given inline.
func inlineSecrets(n *yaml.Node, path []string, p *problems) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			inlineSecrets(c, path, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			inlineSecrets(c, join(path, fmt.Sprint(i)), p)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if secretName.MatchString(k.Value) && !pullSecret.MatchString(k.Value) && v.Kind == yaml.ScalarNode {
				p.claim(join(path, k.Value), "%q is a secret given inline: secrets are only read from files, never kept in the platform file; put it in a file (chmod 600) and give %sFile: PATH (relative to this file) instead", k.Value, k.Value)
				continue
			}
			inlineSecrets(v, join(path, k.Value), p)
		}
	}
}

// resolve makes a relative path absolute against the file's folder.
func (pl *Platform) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
		return p
	}
	return filepath.Join(pl.Dir, p)
}

// blocksWithProblems names the sections whose block has a problem in ps (by its path).
func blocksWithProblems(ps []Problem) map[string]bool {
	out := map[string]bool{}
	for _, pr := range ps {
		rest, ok := strings.CutPrefix(pr.Path, "spec.")
		if !ok {
			continue
		}
		name := rest
		if i := strings.IndexAny(rest, ".["); i >= 0 {
			name = rest[:i]
		}
		out[name] = true
	}
	return out
}
