package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// lbSection runs the lb block through lb.Installer.Apply, as `lb` does.
type lbSection struct {
	pl   *Platform
	spec lb.Spec
}

func (s *lbSection) Name() string    { return "lb" }
func (s *lbSection) Needs() []string { return nil }

// Prepare fills the spec and refuses a chart version given that cannot install on the server;
// without one, Apply picks (and says) the version that fits.
func (s *lbSection) Prepare(_ context.Context, env *Env) error {
	var err error
	if s.spec, err = s.pl.LBSpec(); err != nil {
		return err
	}
	if v := s.spec.Config.Chart.Version; v != "" {
		rule := lb.ChartRule
		rule.Flag = "chart.version:" // the file's field, not the command's flag
		if _, err := rule.Pick(env.Server, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *lbSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	c := s.spec
	c.Config.DryRun, c.Config.Wait, c.Config.Timeout = env.DryRun, env.Wait, env.Timeout
	probeSkipped := c.Probe && c.Config.DryRun != core.DryRunNone
	if probeSkipped {
		c.Probe = false // the probe creates a Service: never in a dry run
	}
	in := &lb.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress}
	rep, err := in.Apply(ctx, c)
	if probeSkipped {
		rep.Notes = append(rep.Notes, "probe skipped: dry run")
	}
	return rep, err
}

// Uninstall runs `lb uninstall` on the block's release namespace.
func (s *lbSection) Uninstall(ctx context.Context, env *Env, _ DeleteOptions) (*output.Report, error) {
	in := &lb.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress}
	return in.Uninstall(ctx, lb.Config{Namespace: or(s.pl.Spec.LB.ReleaseNamespace, lb.DefaultNamespace), DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout})
}
