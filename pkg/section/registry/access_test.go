package registry

import (
	"testing"
)

// Every section's access declaration grants list on each resource type its checks read: its
// command runs some of them as post-conditions (with the section's identity, e.g. one bound to
// `kubectl flexigrobots rbac storage`), and which ones may change with the spec.
func TestAccessCoversTheChecks(t *testing.T) {
	for _, s := range Sections {
		lists := map[string]bool{}
		for _, a := range s.Access().Accesses() {
			if a.Verb == "list" && a.Name == "" && a.Subresource == "" {
				lists[a.Group+"/"+a.Resource] = true
			}
		}
		for _, c := range s.Checks() {
			for _, g := range c.Resources {
				if !lists[g.Group+"/"+g.Resource] {
					t.Errorf("section %s: check %s lists %s, which its Access does not grant", s.Name(), c.ID, g.GroupResource())
				}
			}
		}
	}
}
