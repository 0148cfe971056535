package verify

import (
	"strings"
	"testing"
)

// TestEverySectionRegisters: the registry of the verify command builds (a malformed or duplicate
// check would panic every command), each section has checks, and IDs carry their section.
func TestEverySectionRegisters(t *testing.T) {
	r := NewRegistry()
	if len(r.Sections()) == 0 || r.Sections()[0] != "cluster" {
		t.Fatalf("sections = %v, want cluster first", r.Sections())
	}
	for _, s := range r.Sections() {
		cs, err := r.ForSections(s)
		if err != nil || len(cs) == 0 {
			t.Errorf("section %s: %d checks, %v", s, len(cs), err)
		}
		for _, c := range cs {
			if !strings.HasPrefix(c.ID, strings.ToUpper(s)+"-") {
				t.Errorf("check %s of section %s: ID must start with %s-", c.ID, s, strings.ToUpper(s))
			}
		}
	}
}
