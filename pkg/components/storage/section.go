package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Spec is the storage section as the command's flags or the platform file give it.
type Spec struct {
	// Config is what Install makes true (validated with Config.Validate).
	Config Config
	// SmokeTest runs the runbook's test claim and pod afterwards.
	SmokeTest bool
}

// Apply is the storage section: install, the section's checks as post-conditions (with Wait),
// the smoke test when asked. The storage command and `apply -f` both run it; the report holds
// what was done also on error.
func (in *Installer) Apply(ctx context.Context, s Spec) (*output.Report, error) {
	ctx, cancel := core.WithBudget(ctx, in.Timeout) // --timeout is the whole section's
	defer cancel()
	rep, err := in.Install(ctx, s.Config)
	if err != nil {
		return rep, err
	}
	if in.dryRun() {
		if s.SmokeTest {
			rep.Notes = append(rep.Notes, "smoke test skipped: dry run")
		}
		return rep, nil
	}
	if in.Wait {
		if err := in.postConditions(ctx, s.Config); err != nil {
			return rep, err
		}
	}
	if s.SmokeTest {
		res, err := in.SmokeTest(ctx, s.Config, core.Budget(ctx, in.Timeout))
		if err != nil {
			return rep, err
		}
		rep.Notes = append(rep.Notes, res.Notes()...)
	}
	return rep, nil
}

// postConditions runs the section's own checks (the default-class one unless c.Default is off).
func (in *Installer) postConditions(ctx context.Context, c Config) error {
	cl := in.Clients
	env := checks.Env{Client: cl.Client, Dynamic: cl.Dynamic, Discovery: cl.Discovery, Host: cl.Config.Host, ProbeTimeout: 30 * time.Second}
	var cs []checks.Check
	for _, ch := range Checks() {
		if ch.ID == "STORAGE-003" && !c.Default {
			continue
		}
		cs = append(cs, ch)
	}
	var failed []string
	for _, r := range checks.Run(ctx, &checks.Collector{Env: env}, cs) {
		if r.Severity >= checks.Error {
			failed = append(failed, fmt.Sprintf("%s %s: %s (%s)", r.ID, r.Title, r.Message, r.Fix))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("storage: installed, but the checks fail:\n  %s", strings.Join(failed, "\n  "))
	}
	return nil
}
