package platform

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// fakeSection is a section with a scripted outcome (unit test of the runner's order and skips).
type fakeSection struct {
	name       string
	needs      []string
	prepareErr error
	applyErr   error
	changed    bool
	ran        *[]string
}

func (f *fakeSection) Name() string                        { return f.name }
func (f *fakeSection) Needs() []string                     { return f.needs }
func (f *fakeSection) Prepare(context.Context, *Env) error { return f.prepareErr }
func (f *fakeSection) Apply(context.Context, *Env) (*output.Report, error) {
	*f.ran = append(*f.ran, f.name)
	action := output.Unchanged
	if f.changed {
		action = output.Configured
	}
	return &output.Report{Results: []output.Result{{Kind: "ConfigMap", Name: f.name, Action: action}}}, f.applyErr
}

func TestRunStopsDependentsOfAFailure(t *testing.T) {
	var ran []string
	secs := []Section{
		&fakeSection{name: "storage", changed: true, ran: &ran},
		&fakeSection{name: "lb", applyErr: errors.New("chart not found"), ran: &ran},
		&fakeSection{name: "kubeflow", needs: []string{"storage", "lb"}, ran: &ran},
		&fakeSection{name: "tls", needs: []string{"kubeflow"}, ran: &ran},
		&fakeSection{name: "profiles", needs: []string{"kubeflow"}, ran: &ran},
		&fakeSection{name: "gpu", ran: &ran},
	}
	env := &Env{Progress: output.NewProgress(&bytes.Buffer{}), DryRun: cmdutil.DryRunNone}
	sum, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, env)
	if err == nil || !strings.Contains(err.Error(), "lb: chart not found") {
		t.Fatalf("want the failure in the error, got %v", err)
	}
	if strings.Join(ran, ",") != "storage,lb,gpu" {
		t.Fatalf("ran %v, want storage,lb,gpu", ran)
	}
	want := map[string]string{"storage": Changed, "lb": Failed, "kubeflow": Skipped, "tls": Skipped, "profiles": Skipped, "gpu": Unchanged}
	for _, o := range sum.Sections {
		if o.Result != want[o.Section] {
			t.Errorf("%s: %s, want %s", o.Section, o.Result, want[o.Section])
		}
	}
	if r := sum.Sections[2].Reason; r != "needs lb, which failed" {
		t.Errorf("kubeflow reason %q", r)
	}
	if r := sum.Sections[3].Reason; r != "needs kubeflow, which was skipped" {
		t.Errorf("tls reason %q", r)
	}
	var out bytes.Buffer
	if err := PrintSummary(&out, io.Discard, output.Table, sum); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"SECTION", "storage    changed", "1/1", "kubeflow   skipped", "needs lb, which failed"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
}

func TestRunRefusesEveryUsageErrorBeforeAnyChange(t *testing.T) {
	var ran []string
	secs := []Section{
		&fakeSection{name: "lb", prepareErr: cmdutil.UsageErrorf("chart.version: MetalLB chart 0.15.3 cannot be installed"), ran: &ran},
		&fakeSection{name: "kubeflow", prepareErr: cmdutil.UsageErrorf("Kubeflow v1.10.2 cannot be installed"), ran: &ran},
		&fakeSection{name: "gpu", ran: &ran},
	}
	_, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, &Env{Progress: output.NewProgress(&bytes.Buffer{})})
	if !cmdutil.IsUsageError(err) || !strings.Contains(err.Error(), "MetalLB") || !strings.Contains(err.Error(), "Kubeflow") || len(ran) != 0 {
		t.Fatalf("want one usage error naming both and nothing run; got %v, ran %v", err, ran)
	}
}

func TestSelect(t *testing.T) {
	pl, err := Parse("p.yaml", exampleDir(t), exampleBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []Section) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name())
		}
		return strings.Join(out, ",")
	}
	if s, _ := Select(pl, nil, nil); names(s) != "storage,lb,kubeflow,tls,profiles,gpu" {
		t.Errorf("all: %s", names(s))
	}
	if s, _ := Select(pl, []string{"gpu", "lb"}, nil); names(s) != "lb,gpu" {
		t.Errorf("--only: %s", names(s))
	}
	if s, _ := Select(pl, nil, []string{"tls", "profiles"}); names(s) != "storage,lb,kubeflow,gpu" {
		t.Errorf("--skip: %s", names(s))
	}
	for _, bad := range [][2][]string{{{"monitoring"}, nil}, {nil, {"tsl"}}, {{"gpu"}, {"gpu"}}} {
		if _, err := Select(pl, bad[0], bad[1]); !cmdutil.IsUsageError(err) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}
