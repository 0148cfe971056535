package section_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// scripted is a section whose Apply and post-condition are given; it records the deadline its
// Apply saw.
type scripted struct {
	applyErr error
	holds    bool
	changes  bool   // its Apply reports a configured object
	cancel   func() // called by its Apply (a Ctrl-C during the run)
	deadline time.Time
	checked  int // how many times its post-conditions ran
}

type noSpec struct{}

func (*noSpec) Default()                {}
func (*noSpec) Validate() core.Problems { return nil }

func (s *scripted) Name() string                                              { return "demo" }
func (s *scripted) Needs() []string                                           { return nil }
func (s *scripted) NewSpec() section.Spec                                     { return &noSpec{} }
func (s *scripted) Prepare(context.Context, *section.Run, section.Spec) error { return nil }
func (s *scripted) Checks() []checks.Check                                    { return nil }
func (s *scripted) Access() access.Section                                    { return access.Section{Name: "demo"} }
func (s *scripted) Uninstall(context.Context, *section.Run, section.Spec, section.UninstallOptions) (*output.Report, error) {
	return nil, nil
}
func (s *scripted) Apply(ctx context.Context, _ *section.Run, _ section.Spec) (*output.Report, error) {
	s.deadline, _ = ctx.Deadline()
	if s.cancel != nil {
		s.cancel()
	}
	rep := &output.Report{}
	if s.changes {
		rep.Add(output.Result{Kind: "ConfigMap", Name: "demo", Action: output.Configured})
	}
	return rep, s.applyErr
}
func (s *scripted) PostConditions(section.Spec) []checks.Check {
	return []checks.Check{{ID: "DEMO-001", Section: "demo", Title: "Demo holds", Severity: checks.Error, Run: func(*checks.Snapshot) []checks.Result {
		s.checked++
		if s.holds {
			return []checks.Result{checks.Pass("holds")}
		}
		return []checks.Result{checks.Fail("does not hold", "make it hold")}
	}}}
}

func run(dry core.DryRunStrategy, wait bool) *section.Run {
	cs := fake.NewClientset()
	return &section.Run{Clients: &kube.Clients{Config: &rest.Config{Host: "https://127.0.0.1:6443"}, Client: cs, Discovery: memory.NewMemCacheClient(cs.Discovery())},
		Progress: output.NewProgress(&bytes.Buffer{}), DryRun: dry, Wait: wait, Timeout: time.Minute}
}

// TestApplyRunsThePostConditionsOnce: after an apply that changed the cluster and waited, a
// failing post-condition is exit code 3 naming the check; a dry run, --wait=false or a failed
// apply runs none; the section's Apply sees the run's one budget as its deadline.
func TestApplyRunsThePostConditionsOnce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sec      *scripted
		r        *section.Run
		wantCode int
		want     string
	}{
		{"fails after a real apply", &scripted{changes: true}, run(core.DryRunNone, true), core.ExitFailed, "DEMO-001 Demo holds: does not hold (fix: make it hold)"},
		{"holds", &scripted{changes: true, holds: true}, run(core.DryRunNone, true), core.ExitOK, ""},
		{"not after an apply that changed nothing", &scripted{}, run(core.DryRunNone, true), core.ExitOK, ""},
		{"not in a dry run", &scripted{changes: true}, run(core.DryRunServer, true), core.ExitOK, ""},
		{"not without waiting", &scripted{changes: true}, run(core.DryRunNone, false), core.ExitOK, ""},
		{"not after a failed apply", &scripted{changes: true, applyErr: errors.New("boom")}, run(core.DryRunNone, true), core.ExitRuntime, "boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			start := time.Now()
			_, err := section.Apply(context.Background(), tc.sec, r, &noSpec{})
			code := core.ExitOK
			if err != nil {
				code = core.ExitCode(err)
			}
			if code != tc.wantCode || (tc.want != "" && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("exit %d (%v), want %d with %q", code, err, tc.wantCode, tc.want)
			}
			if d := tc.sec.deadline.Sub(start); d <= 0 || d > time.Minute+time.Second {
				t.Errorf("Apply's deadline is %s away, want the run's one minute", d)
			}
		})
	}
}

// TestPostConditionsPendingUntilTheyPass: a run that changed the cluster without passing its
// post-conditions (no wait, a failure, or they failed) leaves them pending, and a later run that
// waits runs them though it changes nothing, until they pass; then a no-op re-run runs none and
// writes nothing.
func TestPostConditionsPendingUntilTheyPass(t *testing.T) {
	sec := &scripted{changes: true}
	r := run(core.DryRunNone, false)
	apply := func(wait bool) error {
		r.Wait = wait
		_, err := section.Apply(context.Background(), sec, r, &noSpec{})
		return err
	}
	step := func(what string, wait bool, wantCode, wantChecked int) {
		t.Helper()
		before := sec.checked
		code := core.ExitOK
		if err := apply(wait); err != nil {
			code = core.ExitCode(err)
		}
		if code != wantCode || sec.checked-before != wantChecked {
			t.Fatalf("%s: exit %d with post-conditions run %d times, want %d and %d", what, code, sec.checked-before, wantCode, wantChecked)
		}
	}
	step("a change without waiting", false, core.ExitOK, 0)
	sec.changes = false
	step("a no-op that waits, after the change that did not", true, core.ExitFailed, 1)
	step("the same, still failing", true, core.ExitFailed, 1)
	sec.holds = true
	step("the no-op once they hold", true, core.ExitOK, 1)
	record, err := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(context.Background(), section.PlatformRecord, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	step("a no-op after they passed", true, core.ExitOK, 0)
	again, _ := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(context.Background(), section.PlatformRecord, metav1.GetOptions{})
	if again.ResourceVersion != record.ResourceVersion || len(again.Annotations) != 0 {
		t.Errorf("the no-op wrote the record (resourceVersion %s -> %s) or left a note %v", record.ResourceVersion, again.ResourceVersion, again.Annotations)
	}
	sec.changes, sec.applyErr = true, errors.New("boom")
	step("a change that failed", true, core.ExitRuntime, 0)
	sec.changes, sec.applyErr = false, nil
	step("the no-op after it", true, core.ExitOK, 1)

	// Ctrl-C after a change: the run fails with its context gone, and the note is written (on a
	// real API server too: TestPendingNotesOnTheAPIServer).
	ctx, cancel := context.WithCancel(context.Background())
	sec.changes, sec.applyErr, sec.cancel = true, context.Canceled, cancel
	if _, err := section.Apply(ctx, sec, r, &noSpec{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	sec.changes, sec.applyErr, sec.cancel = false, nil, nil
	step("the no-op after an interrupted change", true, core.ExitOK, 1)
}
