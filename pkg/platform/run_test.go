package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// ranLog records which fake sections applied, from any goroutine.
type ranLog struct {
	mu    sync.Mutex
	names []string
}

func (l *ranLog) add(name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, name)
}

// sorted is the names that ran, sorted (independent sections run in any order).
func (l *ranLog) sorted() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.names)
	slices.Sort(out)
	return strings.Join(out, ",")
}

// fakeSection is a section with a scripted outcome (unit test of the runner's order and skips).
type fakeSection struct {
	name       string
	needs      []string
	prepareErr error
	applyErr   error
	changed    bool
	ran        *ranLog
	// apply, when set, runs inside Apply (to hold a section or watch the others).
	apply func(ctx context.Context)
}

func (f *fakeSection) Name() string                                              { return f.name }
func (f *fakeSection) Needs() []string                                           { return f.needs }
func (f *fakeSection) NewSpec() section.Spec                                     { return &fakeSpec{} }
func (f *fakeSection) Prepare(context.Context, *section.Run, section.Spec) error { return f.prepareErr }
func (f *fakeSection) Checks() []checks.Check                                    { return nil }
func (f *fakeSection) PostConditions(section.Spec) []checks.Check                { return nil }
func (f *fakeSection) Access() access.Section                                    { return access.Section{Name: f.name} }
func (f *fakeSection) Uninstall(context.Context, *section.Run, section.Spec, section.UninstallOptions) (*output.Report, error) {
	return nil, errors.New("not removable")
}
func (f *fakeSection) Apply(ctx context.Context, _ *section.Run, _ section.Spec) (*output.Report, error) {
	f.ran.add(f.name)
	if f.apply != nil {
		f.apply(ctx)
	}
	action := output.Unchanged
	if f.changed {
		action = output.Configured
	}
	return &output.Report{Results: []output.Result{{Kind: "ConfigMap", Name: f.name, Action: action}}}, f.applyErr
}

// fakeSpec is the Spec of a fake section: nothing to default or check.
type fakeSpec struct{}

func (*fakeSpec) Default()                {}
func (*fakeSpec) Validate() core.Problems { return nil }

// blocks makes the fake sections the blocks of a run.
func blocks(secs ...section.Section) []Block {
	out := make([]Block, len(secs))
	for i, s := range secs {
		out[i] = Block{Section: s, Spec: s.NewSpec()}
	}
	return out
}

func TestRunStopsDependentsOfAFailure(t *testing.T) {
	ran := &ranLog{}
	secs := blocks(
		&fakeSection{name: "storage", changed: true, ran: ran},
		&fakeSection{name: "lb", applyErr: errors.New("lb: chart not found"), ran: ran},
		&fakeSection{name: "kubeflow", needs: []string{"storage", "lb"}, ran: ran},
		&fakeSection{name: "tls", needs: []string{"kubeflow"}, ran: ran},
		&fakeSection{name: "profiles", needs: []string{"kubeflow"}, ran: ran},
		&fakeSection{name: "gpu", ran: ran},
	)
	r := &section.Run{Progress: output.NewProgress(&bytes.Buffer{}), DryRun: core.DryRunNone}
	sum, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, r)
	// The first line names the section (it is all Ctrl-C shows), the next its error, with the
	// section said once though the section's own error starts with it.
	if first, rest, _ := strings.Cut(fmt.Sprint(err), "\n"); err == nil || first != "1 section did not apply (lb):" || strings.TrimSpace(rest) != "lb: chart not found" {
		t.Fatalf("want the failed section named and its error once, got %v", err)
	}
	if got := ran.sorted(); got != "gpu,lb,storage" {
		t.Fatalf("ran %s, want gpu,lb,storage", got)
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
	// The object storage changed, as kubectl prints it, before the table; gpu's unchanged one not.
	if !strings.HasPrefix(out.String(), "storage: configmap/storage configured\nSECTION") || strings.Contains(out.String(), "configmap/gpu") {
		t.Errorf("summary does not start with the one changed object:\n%s", out.String())
	}
	for _, w := range []string{"SECTION", "storage    changed", "1/1", "kubeflow   skipped", "needs lb, which failed"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, out.String())
		}
	}
}

func TestRunRefusesEveryUsageErrorBeforeAnyChange(t *testing.T) {
	ran := &ranLog{}
	secs := blocks(
		&fakeSection{name: "lb", prepareErr: core.UsageErrorf("{chart.version}: MetalLB chart 0.15.3 cannot be installed"), ran: ran},
		&fakeSection{name: "kubeflow", prepareErr: core.UsageErrorf("Kubeflow v1.10.2 cannot be installed"), ran: ran},
		&fakeSection{name: "gpu", ran: ran},
	)
	_, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, &section.Run{Progress: output.NewProgress(&bytes.Buffer{})})
	if !core.IsUsageError(err) || !strings.Contains(err.Error(), "lb: spec.lb.chart.version: MetalLB") || !strings.Contains(err.Error(), "Kubeflow") || ran.sorted() != "" {
		t.Fatalf("want one usage error naming both and nothing run; got %v, ran %v", err, ran)
	}
}

func TestSelect(t *testing.T) {
	pl, err := Parse("p.yaml", exampleDir(t), exampleBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []Block) string {
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
		if _, err := Select(pl, bad[0], bad[1]); !core.IsUsageError(err) {
			t.Errorf("%v: want a usage error, got %v", bad, err)
		}
	}
}

// TestRunOverlapsIndependentSections: gpu needs nothing, so it applies while storage and lb do;
// kubeflow starts only after both ended, its Build running meanwhile; tls after kubeflow.
func TestRunOverlapsIndependentSections(t *testing.T) {
	ran := &ranLog{}
	storageHeld, release, built := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var events []string
	note := func(e string) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}
	kf := &fakeBuilder{fakeSection: fakeSection{name: "kubeflow", needs: []string{"storage", "lb"}, ran: ran,
		apply: func(context.Context) { note("kubeflow applies") }}}
	kf.build = func() { <-storageHeld; note("kubeflow builds"); close(built) }
	secs := blocks(
		&fakeSection{name: "storage", ran: ran, apply: func(context.Context) {
			close(storageHeld)
			<-release // held until gpu has applied and kubeflow built: neither may wait for storage
			<-built
			note("storage ends")
		}},
		&fakeSection{name: "lb", ran: ran},
		kf,
		&fakeSection{name: "tls", needs: []string{"kubeflow"}, ran: ran, apply: func(context.Context) { note("tls applies") }},
		&fakeSection{name: "gpu", ran: ran, apply: func(context.Context) { <-storageHeld; note("gpu applies"); close(release) }},
	)
	r := &section.Run{Progress: output.NewProgress(io.Discard), DryRun: core.DryRunNone}
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, r)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: gpu waited for storage, or kubeflow's build waited for its needs")
	}
	mu.Lock()
	defer mu.Unlock()
	order := strings.Join(events, " < ")
	pos := func(e string) int { return slices.Index(events, e) }
	if pos("kubeflow builds") < 0 || pos("kubeflow builds") > pos("storage ends") || pos("gpu applies") > pos("storage ends") {
		t.Errorf("build and gpu must not wait for storage: %s", order)
	}
	if pos("kubeflow applies") < pos("storage ends") || pos("tls applies") < pos("kubeflow applies") {
		t.Errorf("kubeflow must apply after storage, tls after kubeflow: %s", order)
	}
}

// TestRunCancelsTheBuildOfASkippedSection: lb fails, so kubeflow's build is cancelled and
// kubeflow is skipped without applying.
func TestRunCancelsTheBuildOfASkippedSection(t *testing.T) {
	ran := &ranLog{}
	cancelled := make(chan struct{})
	kf := &fakeBuilder{fakeSection: fakeSection{name: "kubeflow", needs: []string{"lb"}, ran: ran}}
	kf.buildCtx = func(ctx context.Context) { <-ctx.Done(); close(cancelled) }
	secs := blocks(&fakeSection{name: "lb", applyErr: errors.New("no chart"), ran: ran}, kf)
	sum, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, &section.Run{Progress: output.NewProgress(io.Discard)})
	if err == nil {
		t.Fatal("want lb's failure")
	}
	select {
	case <-cancelled:
	default:
		t.Error("kubeflow's build was not cancelled")
	}
	if ran.sorted() != "lb" || sum.Sections[1].Result != Skipped {
		t.Errorf("ran %s, kubeflow %s: want only lb, kubeflow skipped", ran.sorted(), sum.Sections[1].Result)
	}
}

// fakeBuilder is a fakeSection with a Build.
type fakeBuilder struct {
	fakeSection
	build    func()
	buildCtx func(context.Context)
}

func (f *fakeBuilder) Build(ctx context.Context, _ *section.Run, _ section.Spec) error {
	if f.build != nil {
		f.build()
	}
	if f.buildCtx != nil {
		f.buildCtx(ctx)
	}
	return ctx.Err()
}

func TestOnlyUsageNeedsNothingChanged(t *testing.T) {
	for _, c := range []struct {
		name string
		sum  Summary
		want bool
	}{
		{"refused, others unchanged", Summary{Sections: []Outcome{{Result: Failed, usage: true}, {Result: Unchanged}, {Result: Skipped}}}, true},
		{"refused, another changed", Summary{Sections: []Outcome{{Result: Failed, usage: true}, {Result: Changed, Changed: 2}}}, false},
		{"a failure that is no refusal", Summary{Sections: []Outcome{{Result: Failed, usage: true}, {Result: Failed}}}, false},
	} {
		if got := c.sum.onlyUsage(); got != c.want {
			t.Errorf("%s: onlyUsage %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDryRunLinesSayDryRun: a dry run's line that ends each section says it was a dry run, as
// kubectl does on every line of one.
func TestDryRunLinesSayDryRun(t *testing.T) {
	var progress bytes.Buffer
	r := &section.Run{Progress: output.NewProgress(&progress), DryRun: core.DryRunServer}
	secs := blocks(&fakeSection{name: "profiles", changed: true, ran: &ranLog{}})
	if _, err := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "apply: profiles changed (") || !strings.Contains(progress.String(), ", server dry run)") {
		t.Errorf("progress of a server dry run:\n%s", progress.String())
	}
}

// TestInterruptedSectionCountsAllItsObjects: a section cut off counts what it had to apply, not
// only the objects it got to (kubeflow "failed 13/612", not "13/13").
func TestInterruptedSectionCountsAllItsObjects(t *testing.T) {
	cut := &kube.ApplyError{Section: "kubeflow", Total: 612, Applied: 1, Interrupted: true}
	secs := blocks(&fakeSection{name: "kubeflow", changed: true, applyErr: cut, ran: &ranLog{}})
	r := &section.Run{Progress: output.NewProgress(&bytes.Buffer{})}
	sum, _ := Run(context.Background(), &Platform{Path: "p.yaml"}, secs, r)
	if o := sum.Sections[0]; o.Result != Failed || o.Changed != 1 || o.Total != 612 {
		t.Errorf("interrupted section: %s %d/%d, want failed 1/612", o.Result, o.Changed, o.Total)
	}
}
