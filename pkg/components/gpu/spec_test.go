package gpu

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// TestSpecValidate: each rule of the gpu block, at its field.
func TestSpecValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Spec)
		field string
		msg   string
	}{
		{"defaults", func(*Spec) {}, "", ""},
		{"slicing 4", func(s *Spec) { s.Slicing = &SlicingSpec{Replicas: 4, ConfigName: DefaultConfigName} }, "", ""},
		{"slicing off", func(s *Spec) { s.Slicing = &SlicingSpec{Replicas: 1, ConfigName: "tenant-slicing"} }, "", ""},
		{"no namespace", func(s *Spec) { s.Operator.ReleaseNamespace = "" }, "operator.releaseNamespace", "is empty"},
		{"cert without key", func(s *Spec) { s.Operator.Chart.CertFile = "client.crt" }, "operator.chart.certFile", "goes with {operator.chart.keyFile}"},
		{"key without cert", func(s *Spec) { s.Operator.Chart.KeyFile = "client.key" }, "operator.chart.keyFile", "goes with {operator.chart.certFile}"},
		{"password without username", func(s *Spec) { s.Operator.Chart.PasswordFile = "pw" }, "operator.chart.passwordFile", "needs {operator.chart.username}"},
		{"bad set", func(s *Spec) { s.Operator.Chart.Set = core.SetValues{"novalue"} }, "operator.chart.set[0]", "want key=value"},
		{"no repo", func(s *Spec) { s.Operator.Chart.Repo = "" }, "operator.chart.repo", "{operator.chart.chart}"},
		{"replicas missing", func(s *Spec) { s.Slicing = &SlicingSpec{ConfigName: DefaultConfigName} }, "slicing.replicas", "is required"},
		{"replicas -1", func(s *Spec) { s.Slicing = &SlicingSpec{Replicas: -1, ConfigName: DefaultConfigName} }, "slicing.replicas", "from 1 to 64"},
		{"replicas 65", func(s *Spec) { s.Slicing = &SlicingSpec{Replicas: 65, ConfigName: DefaultConfigName} }, "slicing.replicas", "65 is out of range"},
		{"bad config name", func(s *Spec) { s.Slicing = &SlicingSpec{Replicas: 2, ConfigName: "Time_Slicing"} }, "slicing.configName", `"Time_Slicing" is not a valid ConfigMap name`},
		{"slicing command without slicing", func(s *Spec) { s.SkipOperator = true }, "slicing", "is missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{}
			s.Default()
			tc.edit(s)
			ps := s.Validate()
			if tc.field == "" {
				if len(ps) != 0 {
					t.Fatalf("Validate: %v, want none", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Field == tc.field && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("Validate: %v, want %s: ...%s...", ps, tc.field, tc.msg)
		})
	}
}

// TestSpecIsTheBlock: the file's gpu block decodes into Spec, and Default fills what it leaves
// out with the commands' flag defaults.
func TestSpecIsTheBlock(t *testing.T) {
	var s Spec
	block := `{"operator": {"releaseNamespace": "gpu", "driverEnabled": true, "chart": {"version": "v23.6.2", "certFile": "c.crt"}},
		"slicing": {"replicas": 4, "renameByDefault": true, "failRequestsGreaterThanOne": true}}`
	if err := json.Unmarshal([]byte(block), &s); err != nil {
		t.Fatal(err)
	}
	s.Default()
	o, sl := s.Operator, s.Slicing
	if o.ReleaseNamespace != "gpu" || !o.DriverEnabled || o.Chart.Version != "v23.6.2" || o.Chart.Repo != DefaultChartRepo {
		t.Errorf("operator %+v", o)
	}
	if sl == nil || sl.Replicas != 4 || !sl.RenameByDefault || !sl.FailRequestsGreaterThanOne || sl.ConfigName != DefaultConfigName {
		t.Errorf("slicing %+v", sl)
	}
	// The acceptance: certFile without keyFile, at operator.chart.certFile.
	if ps := s.Validate(); len(ps) != 1 || ps[0].Field != "operator.chart.certFile" {
		t.Errorf("Validate: %v, want one problem at operator.chart.certFile", ps)
	}

	var empty Spec
	if err := json.Unmarshal([]byte(`{"slicing": {"replicas": 2}}`), &empty); err != nil {
		t.Fatal(err)
	}
	empty.Default()
	if empty.Operator.ReleaseNamespace != DefaultNamespace || empty.Operator.Chart.Version != "" || len(empty.Validate()) != 0 {
		t.Errorf("no operator block: %+v, %v", empty.Operator, empty.Validate())
	}
}

func TestLoadChecksChartFiles(t *testing.T) {
	s := &Spec{}
	s.Default()
	s.Operator.Chart.CertFile, s.Operator.Chart.KeyFile = "/nonexistent/c.crt", "/nonexistent/c.key"
	s.Resolve(func(p string) string { return p })
	ps := s.Load()
	if len(ps) != 2 || ps[0].Field != "operator.chart.certFile" || ps[1].Field != "operator.chart.keyFile" {
		t.Fatalf("Load: %v", ps)
	}
}

func TestPostConditions(t *testing.T) {
	if got := Section.PostConditions(&Spec{}); len(got) != 3 {
		t.Errorf("operator: %d post-conditions, want GPU-001..003", len(got))
	}
	if got := Section.PostConditions(&Spec{SkipOperator: true, Slicing: &SlicingSpec{Replicas: 2}}); got != nil {
		t.Errorf("gpu slicing alone: %d post-conditions, want none", len(got))
	}
}

func TestPrepareRefusesAVersionTheServerCannotInstall(t *testing.T) {
	old := &section.Run{Server: versions.Server{Major: 1, Minor: 21, Git: "v1.21.14"}}
	s := &Spec{}
	s.Default()
	s.Operator.Chart.Version = "v26.7.0"
	err := Section.Prepare(context.Background(), old, s)
	if !core.IsUsageError(err) || !strings.Contains(err.Error(), "{operator.chart.version} v23.6.2") {
		t.Fatalf("v26.7.0 on 1.21: %v", err)
	}
	s.Operator.Chart.Version = "v23.6.2"
	if err := Section.Prepare(context.Background(), old, s); err != nil {
		t.Fatalf("v23.6.2 on 1.21: %v", err)
	}
}
