package access

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

func TestAccessesFlattenRules(t *testing.T) {
	s := Section{Name: "x", Rules: []rbacv1.PolicyRule{
		Rule("", []string{"pods", "pods/log"}, "get", "list"),
		Named("", []string{"configmaps"}, []string{"a", "b"}, "update"),
		Rule("", []string{"pods"}, "get"), // repeated: once
	}}
	var got []string
	for _, a := range s.Accesses() {
		got = append(got, a.Verb+" "+a.String())
	}
	want := []string{"get pods", "list pods", "get pods/log", "list pods/log", "update configmaps a", "update configmaps b"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	other := Section{Name: "y", Rules: []rbacv1.PolicyRule{Rule("apps", []string{"deployments"}, "patch"), Rule("", []string{"pods"}, "get")}}
	if u := Union(s, other); len(u) != len(want)+1 || u[len(u)-1].Group != "apps" {
		t.Fatalf("union %v", u)
	}
	cr := ClusterRole("r", s, other)
	if cr.Kind != "ClusterRole" || cr.Name != "r" || len(cr.Rules) != 5 {
		t.Fatalf("cluster role %+v", cr)
	}
	if got := (Access{Verb: "approve", Group: "certificates.k8s.io", Resource: "signers", Name: "kubernetes.io/kube-apiserver-client"}).Short(); got != "signers kubernetes.io/kube-apiserver-client" {
		t.Fatalf("short %q", got)
	}
}
