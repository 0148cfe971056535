package profile

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  Spec
		field string // "" with want "": no problem
		want  string
	}{
		{"all profiles", Spec{AllProfiles: true}, "", ""},
		{"namespaces", Spec{Namespaces: []string{"alice", "kubeflow-user-example-com"}}, "", ""},
		{"remove named", Spec{Namespaces: []string{"alice"}, Remove: true}, "", ""},
		{"neither", Spec{}, "", "give {namespaces} (kubectl get profiles) or {allProfiles}"},
		{"empty list", Spec{Namespaces: []string{}}, "", "which profile namespaces?"},
		{"both", Spec{AllProfiles: true, Namespaces: []string{"alice"}}, "", "give {namespaces} or {allProfiles}, not both"},
		{"upper case", Spec{Namespaces: []string{"alice", "Bob"}}, "namespaces[1]", `"Bob" is not a valid namespace name`},
		{"dot", Spec{Namespaces: []string{"a.b"}}, "namespaces[0]", `"a.b" is not a valid namespace name`},
		{"empty name", Spec{Namespaces: []string{""}}, "namespaces[0]", `"" is not a valid namespace name`},
		{"too long", Spec{Namespaces: []string{strings.Repeat("a", 64)}}, "namespaces[0]", "is not a valid namespace name: must be no more than 63"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.spec
			s.Default()
			ps := s.Validate()
			if tc.want == "" {
				if len(ps) != 0 {
					t.Fatalf("want no problem, got %v", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Field == tc.field && strings.Contains(p.Message, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem at %q saying %q, got %v", tc.field, tc.want, ps)
		})
	}
}

func TestSpecIsTheBlock(t *testing.T) {
	var s Spec
	if err := json.Unmarshal([]byte(`{"allProfiles": true, "namespaces": ["a"]}`), &s); err != nil {
		t.Fatal(err)
	}
	if !s.AllProfiles || len(s.Namespaces) != 1 || s.Remove {
		t.Fatalf("decoded %+v", s)
	}
	out, _ := json.Marshal(Spec{Namespaces: []string{"a"}, Remove: true})
	if string(out) != `{"namespaces":["a"]}` {
		t.Fatalf("encoded %s: remove is the command's, not the file's", out)
	}
}

func TestSection(t *testing.T) {
	if Section.Name() != "profiles" || Access.Name != Section.Name() {
		t.Fatalf("name %q, access %q", Section.Name(), Access.Name)
	}
	if n := Section.Needs(); len(n) != 1 || n[0] != "kubeflow" {
		t.Fatalf("needs %v", n)
	}
	if _, ok := Section.NewSpec().(*Spec); !ok {
		t.Fatalf("NewSpec is %T", Section.NewSpec())
	}
	if pc := Section.PostConditions(&Spec{AllProfiles: true}); len(pc) != 0 {
		t.Fatalf("post-conditions %v", pc)
	}
	for _, c := range Section.Checks() {
		if c.Section != Name {
			t.Errorf("%s is in section %q", c.ID, c.Section)
		}
	}
}
