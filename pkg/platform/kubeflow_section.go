package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// kubeflowSection runs the kubeflow block through kubeflow.Installer, as `kubeflow` does: its
// Build (version pick, download, kustomize build) while storage and lb apply, then Converge.
type kubeflowSection struct {
	pl    *Platform
	spec  kubeflow.Spec
	force bool
	built *kubeflow.Built
}

func (s *kubeflowSection) Name() string { return "kubeflow" }

// Needs: the default StorageClass (storage) and, for a LoadBalancer ingress, MetalLB (lb).
func (s *kubeflowSection) Needs() []string { return []string{"storage", "lb"} }

// Prepare fills the spec and refuses a version given that cannot install on the server; without
// one, Install picks (and says) the version that fits.
func (s *kubeflowSection) Prepare(_ context.Context, env *Env) error {
	var err error
	if s.spec, s.force, err = s.pl.KubeflowSpec(); err != nil {
		return err
	}
	if s.spec.Version != "" {
		return kubeflow.CheckVersion(env.Server, s.spec.Version)
	}
	return nil
}

func (s *kubeflowSection) installer(env *Env) *kubeflow.Installer {
	return &kubeflow.Installer{Clients: env.Clients, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout, ForceConflicts: s.force, ForceApply: env.ForceApply, Prune: true}
}

// Build makes the edited object set; it reads the cluster (discovery, the nodes' runtime) only.
func (s *kubeflowSection) Build(ctx context.Context, env *Env) error {
	b, err := s.installer(env).Build(ctx, s.spec)
	s.built = b
	return err
}

func (s *kubeflowSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	if s.built == nil {
		if err := s.Build(ctx, env); err != nil {
			return &output.Report{}, err
		}
	}
	return s.installer(env).Converge(ctx, s.built, s.spec.Edits.GitHub)
}

// Uninstall runs `kubeflow uninstall` (its stores' claims kept unless o.DeleteData).
func (s *kubeflowSection) Uninstall(ctx context.Context, env *Env, o DeleteOptions) (*output.Report, error) {
	return s.installer(env).Uninstall(ctx, o.DeleteData)
}
