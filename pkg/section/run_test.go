package section_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
	deadline time.Time
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
	return &output.Report{}, s.applyErr
}
func (s *scripted) PostConditions(section.Spec) []checks.Check {
	return []checks.Check{{ID: "DEMO-001", Section: "demo", Title: "Demo holds", Severity: checks.Error, Run: func(*checks.Snapshot) []checks.Result {
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
		{"fails after a real apply", &scripted{}, run(core.DryRunNone, true), core.ExitFailed, "DEMO-001 Demo holds: does not hold (fix: make it hold)"},
		{"holds", &scripted{holds: true}, run(core.DryRunNone, true), core.ExitOK, ""},
		{"not in a dry run", &scripted{}, run(core.DryRunServer, true), core.ExitOK, ""},
		{"not without waiting", &scripted{}, run(core.DryRunNone, false), core.ExitOK, ""},
		{"not after a failed apply", &scripted{applyErr: errors.New("boom")}, run(core.DryRunNone, true), core.ExitRuntime, "boom"},
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
