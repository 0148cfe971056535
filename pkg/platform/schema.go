package platform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

const schemaURL = "file:///platform.schema.json"

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	rawSchema   map[string]any
	compileErr  error
	printer     = message.NewPrinter(language.English)
)

// compiledSchema compiles the embedded schema once (formats such as uri and email asserted).
func compiledSchema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.Platform))
		if err != nil {
			compileErr = fmt.Errorf("platform schema: %w", err)
			return
		}
		rawSchema, _ = doc.(map[string]any)
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(schemaURL, doc); err != nil {
			compileErr = fmt.Errorf("platform schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(schemaURL)
	})
	return compiled, compileErr
}

// validateSchema validates the document (as JSON) and adds one problem per failed leaf.
func validateSchema(doc []byte, p *problems) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	err = sch.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	leaves(ve, p)
	return nil
}

// leaves turns the error tree into problems: one per failed keyword, unknown fields one each.
func leaves(ve *jsonschema.ValidationError, p *problems) {
	path := ve.InstanceLocation
	switch k := ve.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		known := knownFields(path)
		for _, name := range k.Properties {
			msg := fmt.Sprintf("unknown field %q", name)
			if s := core.Closest(name, known); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			} else if len(known) > 0 {
				msg += "; known fields here: " + strings.Join(known, ", ")
			}
			p.add(join(path, name), true, "%s", msg)
		}
		return
	case *kind.OneOf, *kind.AnyOf:
		if alts := alternatives(path); len(alts) > 0 {
			p.add(path, true, "give exactly one of %s", strings.Join(alts, " or "))
			return
		}
		var msgs []string
		for _, c := range ve.Causes {
			msgs = append(msgs, leafMessage(c))
		}
		p.add(path, false, "%s", strings.Join(msgs, ", or "))
		return
	case *kind.Required:
		for _, name := range k.Missing {
			p.add(path, true, "missing required field %q", name)
		}
		return
	}
	if len(ve.Causes) == 0 {
		p.add(path, false, "%s", leafMessage(ve))
		return
	}
	for _, c := range ve.Causes {
		leaves(c, p)
	}
}

// leafMessage is the validator's message for one keyword, with the field's description when
// the schema has one (what the value should be).
func leafMessage(ve *jsonschema.ValidationError) string {
	for len(ve.Causes) == 1 {
		ve = ve.Causes[0]
	}
	msg := ve.ErrorKind.LocalizedString(printer)
	if _, isPattern := ve.ErrorKind.(*kind.Pattern); isPattern {
		if d := description(ve.InstanceLocation); d != "" {
			msg += " (want " + d + ")"
		}
	}
	return msg
}

// subschema walks the raw schema to the object schema of path (through $ref, properties and
// items), nil when the schema has none.
func subschema(path []string) map[string]any {
	s := deref(rawSchema)
	for _, tok := range path {
		if s == nil {
			return nil
		}
		if _, err := strconv.Atoi(tok); err == nil {
			if items, ok := s["items"].(map[string]any); ok {
				s = deref(items)
				continue
			}
		}
		props, _ := s["properties"].(map[string]any)
		next, _ := props[tok].(map[string]any)
		s = deref(next)
	}
	return s
}

func deref(s map[string]any) map[string]any {
	for s != nil {
		ref, ok := s["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/$defs/") {
			return s
		}
		defs, _ := rawSchema["$defs"].(map[string]any)
		s, _ = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
	return nil
}

// knownFields lists the fields the schema allows at path, sorted.
func knownFields(path []string) []string {
	props, _ := subschema(path)["properties"].(map[string]any)
	out := make([]string, 0, len(props))
	for k := range props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// alternatives names the fields of a oneOf of required fields at path ("manual", "acme").
func alternatives(path []string) []string {
	one, _ := subschema(path)["oneOf"].([]any)
	var out []string
	for _, o := range one {
		m, _ := o.(map[string]any)
		req, _ := m["required"].([]any)
		if len(req) != 1 {
			return nil
		}
		out = append(out, fmt.Sprint(req[0]))
	}
	return out
}

// description is the schema's description of the field at path, without the command's flag it
// may start with ("--nfs-path: absolute exported directory"): an error about the file names the
// file's fields.
func description(path []string) string {
	d, _ := subschema(path)["description"].(string)
	if strings.HasPrefix(d, "-") {
		_, rest, ok := strings.Cut(d, ": ")
		if !ok {
			return ""
		}
		d = rest
	}
	return d
}

// toJSON turns the decoded YAML into JSON for the validator; map keys must be strings.
func toJSON(v any) ([]byte, error) {
	return json.Marshal(v)
}
