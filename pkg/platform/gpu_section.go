package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// gpuSection runs the gpu block: gpu.Installer.Operator, then Slicing when the block has it, as
// `gpu operator` and `gpu slicing` do.
type gpuSection struct {
	pl       *Platform
	operator gpu.OperatorOptions
	slicing  *gpu.SlicingOptions
}

func (s *gpuSection) Name() string    { return "gpu" }
func (s *gpuSection) Needs() []string { return nil }

// Prepare refuses an operator chart version given that cannot install on the server.
func (s *gpuSection) Prepare(_ context.Context, env *Env) error {
	s.operator, s.slicing = s.pl.gpuOperator(), s.pl.gpuSlicing()
	if v := s.operator.Chart.Version; v != "" {
		rule := gpu.ChartRule
		rule.Flag = "operator.chart.version:" // the file's field, not the command's flag
		if _, err := rule.Pick(env.Server, v); err != nil {
			return err
		}
	}
	return append(s.operator.Chart.Validate(), s.operator.Chart.CheckFiles()...).UsageError(core.ChartFlag)
}

func (s *gpuSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	ctx, cancel := core.WithBudget(ctx, env.Timeout) // one budget for operator and slicing
	defer cancel()
	in := &gpu.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress}
	o := s.operator
	o.DryRun, o.Wait, o.Timeout = env.DryRun, env.Wait, env.Timeout
	rep, err := in.Operator(ctx, o)
	if err != nil || s.slicing == nil {
		return rep, err
	}
	if env.DryRun != core.DryRunNone {
		if rel, err := env.Helm.Find(o.Namespace, gpu.ChartName); err != nil || rel == nil {
			rep.Notes = append(rep.Notes, "time-slicing skipped: dry run, and the operator it configures is not installed yet")
			return rep, err
		}
	}
	sl := *s.slicing
	sl.DryRun, sl.Wait, sl.Timeout = env.DryRun, env.Wait, env.Timeout
	srep, _, err := in.Slicing(ctx, sl)
	if srep != nil {
		rep.Add(srep.Results...)
		rep.Notes = append(rep.Notes, srep.Notes...)
	}
	return rep, err
}

// Uninstall runs `gpu uninstall` on the block's release namespace.
func (s *gpuSection) Uninstall(ctx context.Context, env *Env, _ DeleteOptions) (*output.Report, error) {
	in := &gpu.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress}
	return in.Uninstall(ctx, s.pl.gpuOperator().Namespace, env.DryRun, env.Wait, env.Timeout)
}
