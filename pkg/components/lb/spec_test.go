package lb

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

func TestSpecDefault(t *testing.T) {
	s := &Spec{Addresses: []string{"203.0.113.10/32"}}
	s.Default()
	if s.Pool != DefaultPool || s.L2Advertisement != DefaultL2 || s.ReleaseNamespace != DefaultNamespace || s.ReleaseName != DefaultRelease || s.Chart.Repo != DefaultChartRepo || s.Chart.Version != "" {
		t.Fatalf("defaults: %+v", s)
	}
	if ps := s.Validate(); len(ps) != 0 {
		t.Fatalf("the defaults do not validate: %v", ps)
	}
	given := &Spec{Pool: "p", L2Advertisement: "l", ReleaseNamespace: "ns", ReleaseName: "r", Chart: core.ChartSource{Repo: "https://mirror", Version: "0.14.3"}}
	given.Default()
	if given.Pool != "p" || given.L2Advertisement != "l" || given.ReleaseNamespace != "ns" || given.ReleaseName != "r" || given.Chart.Repo != "https://mirror" || given.Chart.Version != "0.14.3" {
		t.Fatalf("Default changed given values: %+v", given)
	}
}

func TestSpecValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Spec)
		field string
		want  string
	}{
		{"no addresses", func(s *Spec) { s.Addresses = nil }, "addresses", "is empty"},
		{"empty entry", func(s *Spec) { s.Addresses = []string{"203.0.113.10/32", ""} }, "addresses[1]", "empty entry"},
		{"bare address", func(s *Spec) { s.Addresses = []string{"203.0.113.10"} }, "addresses[0]", "neither a CIDR nor a range"},
		{"host bits", func(s *Spec) { s.Addresses = []string{"203.0.113.10/24"} }, "addresses[0]", "did you mean 203.0.113.0/24"},
		{"overlap", func(s *Spec) { s.Addresses = []string{"203.0.113.0/28", "203.0.113.5/32"} }, "addresses[1]", "overlaps 203.0.113.0/28 ({addresses[0]})"},
		{"bad pool", func(s *Spec) { s.Pool = "AI_Pool" }, "pool", "not a valid object name"},
		{"bad l2", func(s *Spec) { s.L2Advertisement = "-x" }, "l2Advertisement", "not a valid object name"},
		{"bad release name", func(s *Spec) { s.ReleaseName = "Metal LB" }, "releaseName", "not a valid object name"},
		{"bad namespace", func(s *Spec) { s.ReleaseNamespace = "metallb.system" }, "releaseNamespace", "not a valid namespace name"},
		{"bad service CIDR", func(s *Spec) { s.ServiceCIDRs = []string{"10.43.0.0/16", "10.96.0.0"} }, "serviceCIDRs[1]", "is not a CIDR (no '/')"},
		{"service CIDR too long", func(s *Spec) { s.ServiceCIDRs = []string{"10.96.0.0/33"} }, "serviceCIDRs[0]", "prefix length out of range"},
		{"no chart repo", func(s *Spec) { s.Chart.Repo = "" }, "chart.repo", "is empty: give a repository URL or {chart.chart}"},
		{"chart cert without key", func(s *Spec) { s.Chart.CertFile = "c.pem" }, "chart.certFile", "goes with {chart.keyFile}"},
		{"bad set", func(s *Spec) { s.Chart.Set = []string{"novalue"} }, "chart.set[0]", "want key=value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{Addresses: []string{"203.0.113.10/32"}}
			s.Default()
			tc.edit(s)
			ps := s.Validate()
			if len(ps) != 1 || ps[0].Field != tc.field || !strings.Contains(ps[0].Message, tc.want) {
				t.Fatalf("problems %+v, want one at %s saying %q", ps, tc.field, tc.want)
			}
		})
	}
}

func TestSpecValidateListsEveryProblem(t *testing.T) {
	s := &Spec{Addresses: []string{"x", "203.0.113.10/32", "y"}, Pool: "A", ServiceCIDRs: []string{"z"}}
	s.Default()
	var fields []string
	for _, p := range s.Validate() {
		fields = append(fields, p.Field)
	}
	if got := strings.Join(fields, ","); got != "addresses[0],addresses[2],pool,serviceCIDRs[0]" {
		t.Fatalf("fields %s", got)
	}
}

func TestObjectsNormaliseEntries(t *testing.T) {
	s := &Spec{Addresses: []string{" 198.51.100.10 - 198.51.100.20 ", "203.0.113.16/28"}}
	s.Default()
	objs := Objects(s)
	got, _, _ := unstructuredStrings(objs[0].Object, "spec", "addresses")
	if strings.Join(got, ",") != "198.51.100.10-198.51.100.20,203.0.113.16/28" || objs[0].GetNamespace() != DefaultNamespace || objs[1].GetName() != DefaultL2 {
		t.Fatalf("objects: %v", objs)
	}
}

func TestPrepareRefusesAVersionTheServerCannotInstall(t *testing.T) {
	old := versions.Server{Major: 1, Minor: 21, Git: "v1.21.14"}
	err := versions.MetalLB.CheckGiven("chart.version", old, "0.15.3")
	if !core.IsUsageError(err) {
		t.Fatalf("want a usage error, got %v", err)
	}
	msg := core.Render(err.Error(), func(f string) string { return "<" + f + ">" })
	for _, w := range []string{"lb: <chart.version>: MetalLB chart 0.15.3 cannot be installed on Kubernetes v1.21.14", "the release that installs here: <chart.version> 0.14.3"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not say %q", msg, w)
		}
	}
	if err := versions.MetalLB.CheckGiven("chart.version", old, "0.14.3"); err != nil {
		t.Errorf("0.14.3 installs on 1.21: %v", err)
	}
	if err := versions.MetalLB.CheckGiven("chart.version", versions.Server{Major: 1, Minor: 30}, "0.15.3"); err != nil {
		t.Errorf("0.15.3 installs on 1.30: %v", err)
	}
}

func TestPostConditions(t *testing.T) {
	s := &Spec{Addresses: []string{"203.0.113.10/32"}}
	s.Default()
	var ids []string
	for _, c := range Section.PostConditions(s) {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "LB-001,LB-002,LB-003,LB-004" {
		t.Fatalf("post-conditions %v", ids)
	}
	if cs := Section.PostConditions(&Spec{Probe: true}); len(cs) != 0 {
		t.Fatalf("a probe only installs nothing: %v", cs)
	}
}

func unstructuredStrings(obj map[string]any, fields ...string) ([]string, bool, error) {
	return unstructured.NestedStringSlice(obj, fields...)
}
