// Package access declares what each section's commands do to the cluster, as RBAC policy
// rules: one declaration per section, beside the code that does it (each section package
// exports its Section). The RBAC check (CLUSTER-005) asks the API server about every permission
// the declarations flatten to and names the sections the caller could not run; the end-to-end
// tests run sections as an identity bound to nothing but a ClusterRole made from them, so a
// declaration that misses what its code does fails a test.
package access

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Section is what one section's commands need, cluster-wide.
type Section struct {
	// Name is the section's name, as `verify --section` and the platform file spell it.
	Name string
	// Rules are RBAC rules, exactly as a ClusterRole for the section would hold them.
	Rules []rbacv1.PolicyRule
}

// Access is one permission: a verb on group/resource[/subresource], optionally one name.
type Access struct {
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
}

// String is kubectl's resource.group[/subresource] form, with the name when there is one.
func (a Access) String() string {
	s := a.Resource
	if a.Group != "" {
		s += "." + a.Group
	}
	if a.Subresource != "" {
		s += "/" + a.Subresource
	}
	if a.Name != "" {
		s += " " + a.Name
	}
	return s
}

// Short is String without the group, as a sentence names it: "signers kubernetes.io/...".
func (a Access) Short() string {
	return Access{Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}.String()
}

// Rule is a PolicyRule of verbs on resources of one API group ("" is the core group).
func Rule(group string, resources []string, verbs ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: verbs}
}

// Named is Rule limited to the named objects.
func Named(group string, resources, names []string, verbs ...string) rbacv1.PolicyRule {
	r := Rule(group, resources, verbs...)
	r.ResourceNames = names
	return r
}

// Accesses flattens the rules into one Access per verb, group, resource and name, in order,
// without repeats.
func (s Section) Accesses() []Access {
	var out []Access
	seen := map[Access]bool{}
	for _, r := range s.Rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				resource, sub, _ := strings.Cut(res, "/")
				for _, v := range r.Verbs {
					for _, n := range names {
						a := Access{Verb: v, Group: g, Resource: resource, Subresource: sub, Name: n}
						if !seen[a] {
							seen[a] = true
							out = append(out, a)
						}
					}
				}
			}
		}
	}
	return out
}

// Union is every Access of the sections, without repeats, in order.
func Union(sections ...Section) []Access {
	var out []Access
	for _, s := range sections {
		for _, a := range s.Accesses() {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// ClusterRole is the sections' rules as one ClusterRole: what a cluster admin binds to an
// identity that runs those sections and nothing else.
func ClusterRole(name string, sections ...Section) *rbacv1.ClusterRole {
	cr := &rbacv1.ClusterRole{
		TypeMeta:   metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String(), Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
	}
	for _, s := range sections {
		cr.Rules = append(cr.Rules, s.Rules...)
	}
	return cr
}
