package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
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

// Every section a platform file can declare has checks, so `verify -f` verifies all of it.
func TestEveryPlatformSectionHasChecks(t *testing.T) {
	known := NewRegistry().Sections()
	for _, s := range platform.Order {
		if !slices.Contains(known, s) {
			t.Errorf("platform section %s has no checks in verify", s)
		}
	}
}
