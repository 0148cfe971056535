package platform

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong in the platform file, where it is and how to fix it.
type Problem struct {
	Line, Column int
	// Path is the field, e.g. spec.lb.addresses[0] ("" for the whole file).
	Path    string
	Message string
}

// Errors lists every problem of one file; Load returns it (as a usage error, exit 2) before
// anything is changed.
type Errors struct {
	File     string
	Problems []Problem
}

func (e *Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s), nothing was changed:", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(e.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
		}
		b.WriteString(": ")
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// problems collects Problems against the parsed document, locating each path in it.
type problems struct {
	root *yaml.Node
	list []Problem
	// taken marks positions that already have a specific problem (an inline secret), so the
	// schema's generic one for the same field is not repeated.
	taken map[[2]int]bool
}

// add records msg at path; onKey points at the mapping key instead of the value (unknown fields).
func (p *problems) add(path []string, onKey bool, format string, args ...any) {
	line, col := p.position(path, onKey)
	if p.taken[[2]int{line, col}] {
		return
	}
	p.list = append(p.list, Problem{Line: line, Column: col, Path: pathString(path), Message: fmt.Sprintf(format, args...)})
}

// claim adds a problem and keeps the schema's from repeating it at the same position.
func (p *problems) claim(path []string, format string, args ...any) {
	p.add(path, true, format, args...)
	line, col := p.position(path, true)
	if p.taken == nil {
		p.taken = map[[2]int]bool{}
	}
	p.taken[[2]int{line, col}] = true
}

func (p *problems) sorted() []Problem {
	sort.SliceStable(p.list, func(i, j int) bool {
		a, b := p.list[i], p.list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	// The same message at the same place once.
	out := p.list[:0]
	for i, x := range p.list {
		if i > 0 && x == p.list[i-1] {
			continue
		}
		out = append(out, x)
	}
	return out
}

// position finds path in the document: the value's line and column, or its key's with onKey.
// A path that does not exist (a missing field) points at the deepest part that does.
func (p *problems) position(path []string, onKey bool) (int, int) {
	n := p.root
	if n == nil {
		return 0, 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var key *yaml.Node
	for _, tok := range path {
		next, k := child(n, tok)
		if next == nil {
			break
		}
		n, key = next, k
	}
	if onKey && key != nil {
		return key.Line, key.Column
	}
	return n.Line, n.Column
}

// child returns the value under tok of a mapping (and its key) or the tok-th item of a sequence.
func child(n *yaml.Node, tok string) (*yaml.Node, *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == tok {
				return n.Content[i+1], n.Content[i]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], nil
		}
	}
	return nil, nil
}

// pathString renders ["spec","lb","addresses","0"] as spec.lb.addresses[0].
func pathString(path []string) string {
	var b strings.Builder
	for _, tok := range path {
		if _, err := strconv.Atoi(tok); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// join appends tokens to a copy of path.
func join(path []string, toks ...string) []string {
	return append(append([]string{}, path...), toks...)
}
