package verify

import (
	"slices"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
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
	for _, s := range platform.Order() {
		if !slices.Contains(known, s) {
			t.Errorf("platform section %s has no checks in verify", s)
		}
	}
}

// The access declarations name what the commands do that a hand-kept list forgot, and each
// names a section verify knows.
func TestAccessDeclarations(t *testing.T) {
	known := append(NewRegistry().Sections(), "verify")
	have := map[string]map[string]bool{}
	for _, s := range append([]access.Section{NewRegistry().Access()}, CommandAccess()...) {
		if !slices.Contains(known, s.Name) {
			t.Errorf("declaration of unknown section %q", s.Name)
		}
		have[s.Name] = map[string]bool{}
		for _, a := range s.Accesses() {
			have[s.Name][a.Verb+" "+a.String()] = true
		}
	}
	for sec, wants := range map[string][]string{
		"storage":  {"create pods", "delete pods", "create persistentvolumeclaims", "update secrets", "escalate clusterroles.rbac.authorization.k8s.io"},
		"lb":       {"delete services", "update configmaps kube-proxy", "patch ipaddresspools.metallb.io"},
		"kubeflow": {"patch virtualservices.networking.istio.io", "create customresourcedefinitions.apiextensions.k8s.io", "approve signers.certificates.k8s.io kubernetes.io/kube-apiserver-client", "update configmaps flexigrobots-applied-kubeflow"},
		"tls":      {"patch gateways.networking.istio.io", "create certificates.cert-manager.io"},
		"profiles": {"watch profiles.kubeflow.org", "delete poddefaults.kubeflow.org"},
		"gpu":      {"patch daemonsets.apps", "create jobs.batch", "patch clusterpolicies.nvidia.com"},
		"verify":   {"list nodes", "get secrets", "list profiles.kubeflow.org", "create selfsubjectaccessreviews.authorization.k8s.io"},
	} {
		for _, w := range wants {
			if !have[sec][w] {
				t.Errorf("section %s does not declare %q", sec, w)
			}
		}
	}
	// verify never lists Secrets, nor holds the CSR approval that would mint certificates.
	for _, bad := range []string{"list secrets", "approve signers.certificates.k8s.io kubernetes.io/kube-apiserver-client"} {
		if have["verify"][bad] {
			t.Errorf("verify declares %q", bad)
		}
	}
}
