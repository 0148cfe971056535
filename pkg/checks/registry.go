package checks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
)

var idPattern = regexp.MustCompile(`^[A-Z][A-Z0-9]*-[0-9]{3}$`)

// Registry holds the checks `verify` knows, in registration order.
type Registry struct {
	checks   []Check
	ids      map[string]bool
	sections []string
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{ids: map[string]bool{}} }

// Register adds checks. A malformed check (ID not SECTION-NNN, duplicate ID, no section, title,
// severity or Run) is a programming error: Register panics, and the registry's unit test catches
// it before any release.
func (r *Registry) Register(cs ...Check) {
	for _, c := range cs {
		if err := validate(c); err != nil {
			panic("checks: " + err.Error())
		}
		if r.ids[c.ID] {
			panic("checks: duplicate check ID " + c.ID)
		}
		r.ids[c.ID] = true
		r.checks = append(r.checks, c)
		if !slices.Contains(r.sections, c.Section) {
			r.sections = append(r.sections, c.Section)
		}
	}
}

func validate(c Check) error {
	switch {
	case !idPattern.MatchString(c.ID):
		return fmt.Errorf("check ID %q: want SECTION-NNN, e.g. CLUSTER-001", c.ID)
	case c.Section == "" || strings.ContainsAny(c.Section, ", "):
		return fmt.Errorf("check %s: section %q must be one word", c.ID, c.Section)
	case c.Title == "":
		return fmt.Errorf("check %s: no title", c.ID)
	case c.Severity < Info || c.Severity > Error:
		return fmt.Errorf("check %s: severity must be Info, Warn or Error", c.ID)
	case c.Run == nil:
		return fmt.Errorf("check %s: no Run", c.ID)
	}
	for _, p := range c.Probes {
		if p.Name == "" || p.Run == nil {
			return fmt.Errorf("check %s: a probe needs a Name and a Run", c.ID)
		}
	}
	return nil
}

// Sections lists the sections, in registration order.
func (r *Registry) Sections() []string { return slices.Clone(r.sections) }

// All returns every check, in registration order.
func (r *Registry) All() []Check { return slices.Clone(r.checks) }

// ForSections returns the checks of the given sections (all when none is given), in registration
// order. An unknown section is an error naming the known ones.
func (r *Registry) ForSections(sections ...string) ([]Check, error) {
	if len(sections) == 0 {
		return r.All(), nil
	}
	for _, s := range sections {
		if !slices.Contains(r.sections, s) {
			return nil, fmt.Errorf("unknown section %q: use one of %s", s, strings.Join(r.sections, ", "))
		}
	}
	var out []Check
	for _, c := range r.checks {
		if slices.Contains(sections, c.Section) {
			out = append(out, c)
		}
	}
	return out, nil
}

// Access is what `verify` itself needs, derived from the registered checks: list on every
// resource type a check reads (the collector LISTs each across all namespaces) and every
// probe's Rules.
func (r *Registry) Access() access.Section {
	sec := access.Section{Name: "verify"}
	seen := map[string]bool{}
	for _, c := range r.checks {
		for _, g := range c.Resources {
			if key := g.Group + "/" + g.Resource; !seen[key] {
				seen[key] = true
				sec.Rules = append(sec.Rules, access.Rule(g.Group, []string{g.Resource}, "list"))
			}
		}
		for _, p := range c.Probes {
			if !seen["probe "+p.Name] {
				seen["probe "+p.Name] = true
				sec.Rules = append(sec.Rules, p.Rules...)
			}
		}
	}
	return sec
}

// Pick returns the checks of cs with the given IDs, in cs's order (a section's post-conditions
// are named by ID, never by position).
func Pick(cs []Check, ids ...string) []Check {
	var out []Check
	for _, c := range cs {
		if slices.Contains(ids, c.ID) {
			out = append(out, c)
		}
	}
	return out
}
