package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// profilesSection runs the profiles block through profile.Installer.Converge, as
// `profile poddefault` does (a one-off pass: the file has no --watch).
type profilesSection struct {
	pl *Platform
}

func (s *profilesSection) Name() string { return "profiles" }

// Needs: PodDefaults are Kubeflow's (its admission webhook and CRD).
func (s *profilesSection) Needs() []string { return []string{"kubeflow"} }

// Prepare has nothing to check without the cluster: the schema checked the names, and whether
// they are profile namespaces is known only once Kubeflow is installed.
func (s *profilesSection) Prepare(context.Context, *Env) error { return nil }

func (s *profilesSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	b := s.pl.Spec.Profiles
	in := &profile.Installer{Clients: env.Clients, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait && env.DryRun == core.DryRunNone}
	ctx, cancel := context.WithTimeout(ctx, env.Timeout)
	defer cancel()
	return in.Converge(ctx, profile.Spec{AllProfiles: b.AllProfiles, Namespaces: b.Namespaces})
}

// Uninstall runs `profile uninstall`: the plugin's PodDefaults go from every namespace.
func (s *profilesSection) Uninstall(ctx context.Context, env *Env, _ DeleteOptions) (*output.Report, error) {
	in := &profile.Installer{Clients: env.Clients, Progress: env.Progress, DryRun: env.DryRun}
	ctx, cancel := context.WithTimeout(ctx, env.Timeout)
	defer cancel()
	return in.Uninstall(ctx)
}
