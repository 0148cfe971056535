package core

import (
	"fmt"
	"regexp"
	"strings"
)

// Problem is one thing wrong in a section's Spec: the field, as a path in the platform file's
// block of the section ("chart.certFile", "addresses[1]"; "" for the block as a whole), and what
// to do about it. A field named in Message is written {field} and each entry point renders it
// in its own terms: the file's field name, or the command's flag.
type Problem struct {
	Field   string
	Message string
}

// Problemf is a Problem at field.
func Problemf(field, format string, args ...any) Problem {
	return Problem{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Problems are every problem of one Spec, in the order found.
type Problems []Problem

// At prefixes every field with prefix ("chart" + "certFile" = "chart.certFile"), also in the
// {field} references of the messages.
func (ps Problems) At(prefix string) Problems {
	out := make(Problems, 0, len(ps))
	for _, p := range ps {
		p.Field = JoinField(prefix, p.Field)
		p.Message = fieldRef.ReplaceAllStringFunc(p.Message, func(m string) string {
			return "{" + JoinField(prefix, m[1:len(m)-1]) + "}"
		})
		out = append(out, p)
	}
	return out
}

// JoinField joins field paths: "chart" + "certFile" is "chart.certFile", "addresses" + "[1]"
// is "addresses[1]".
func JoinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	}
	return prefix + "." + field
}

var fieldRef = regexp.MustCompile(`\{[A-Za-z0-9_.\[\]]+\}`)

// Render writes the {field} references of msg with name: the file's field names (name returns
// them as they are) or the command's flags.
func Render(msg string, name func(field string) string) string {
	return fieldRef.ReplaceAllStringFunc(msg, func(m string) string { return name(m[1 : len(m)-1]) })
}

// UsageError is ps as one usage error (exit code 2) naming each field with name; nil when ps is
// empty.
func (ps Problems) UsageError(name func(field string) string) error {
	if len(ps) == 0 {
		return nil
	}
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		msg := Render(p.Message, name)
		if p.Field != "" {
			msg = name(p.Field) + ": " + msg
		}
		lines = append(lines, msg)
	}
	if len(lines) == 1 {
		return UsageErrorf("%s", lines[0])
	}
	return UsageErrorf("%d problems, nothing was changed:\n  %s", len(lines), strings.Join(lines, "\n  "))
}
