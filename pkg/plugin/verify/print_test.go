package verify

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

var sample = []checks.Result{
	{ID: "CLUSTER-001", Section: "cluster", Title: "API server reachable", Severity: checks.OK, Message: "Kubernetes v1.37.2"},
	{ID: "CLUSTER-002", Section: "cluster", Title: "All nodes Ready", Severity: checks.Warn, Message: "cordoned nodes: master", Fix: "kubectl uncordon NAME"},
	{ID: "CLUSTER-004", Section: "cluster", Title: "CSR signing works", Severity: checks.Error, Message: "no certificate", Fix: "line one\n    kube-controller:\n      extra_args:"},
	{ID: "LB-001", Section: "lb", Title: "MetalLB installed", Severity: checks.Info, Message: "MetalLB CRDs not installed"},
}

func TestTableListsEveryResultAndTheFixes(t *testing.T) {
	var b bytes.Buffer
	if err := printTable(&b, sample, 3); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "STATUS") || !strings.Contains(lines[0], "ID") || !strings.Contains(lines[0], "MESSAGE") {
		t.Fatalf("header: %q", lines[0])
	}
	for i, want := range []string{"OK", "WARN", "ERROR", "INFO"} {
		if !strings.HasPrefix(lines[i+1], want) || !strings.Contains(lines[i+1], sample[i].ID) {
			t.Errorf("row %d = %q, want %s %s", i+1, lines[i+1], want, sample[i].ID)
		}
	}
	// The multi-line fix keeps its YAML indentation under "Fix:".
	if !strings.Contains(out, "CLUSTER-004 CSR signing works (error): no certificate\n  Fix: line one\n      kube-controller:\n        extra_args:") {
		t.Errorf("fix block missing or mangled:\n%s", out)
	}
	if strings.Contains(out, "CLUSTER-001 API server reachable (ok)") {
		t.Errorf("OK results get no detail block:\n%s", out)
	}
	// 3 checks gave 4 results: both counts, and the words agree with them.
	if !strings.Contains(out, "3 checks, 4 results: 1 ok, 1 info, 1 warning, 1 error") {
		t.Errorf("summary line missing:\n%s", out)
	}
}

func TestJUnitParsesAndCountsFailures(t *testing.T) {
	for _, strict := range []bool{false, true} {
		var b bytes.Buffer
		if err := output.PrintJUnit(&b, toJUnit(sample, strict)); err != nil {
			t.Fatal(err)
		}
		var got output.JUnitSuites
		if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("junit does not parse: %v\n%s", err, b.String())
		}
		wantFailures := 1
		if strict {
			wantFailures = 2 // the warning fails too, as the exit code does
		}
		if got.Tests != 4 || got.Failures != wantFailures || len(got.Suites) != 2 || got.Suites[0].Name != "cluster" || got.Suites[1].Name != "lb" {
			t.Fatalf("strict=%v: tests=%d failures=%d suites=%+v", strict, got.Tests, got.Failures, got.Suites)
		}
		csr := got.Suites[0].Cases[2]
		if csr.Name != "CLUSTER-004 CSR signing works" || csr.Failure == nil || csr.Failure.Type != "error" || !strings.Contains(csr.Failure.Text, "kube-controller:") {
			t.Errorf("CSR case: %+v", csr)
		}
		if ok := got.Suites[0].Cases[0]; ok.Failure != nil || !strings.HasPrefix(ok.SystemOut, "OK: ") {
			t.Errorf("OK case: %+v", ok)
		}
	}
}
