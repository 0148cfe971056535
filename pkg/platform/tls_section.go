package platform

import (
	"context"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// tlsSection runs the tls block through tls.Installer.Apply, as `tls` does.
type tlsSection struct {
	pl    *Platform
	spec  tls.Spec
	state *ingress.State
}

func (s *tlsSection) Name() string { return "tls" }

// Needs: the HTTPS gateway is Kubeflow's.
func (s *tlsSection) Needs() []string { return []string{"kubeflow"} }

// Prepare fills the spec as the flags would and checks it (the manual certificate included)
// before anything changes.
func (s *tlsSection) Prepare(_ context.Context, env *Env) error {
	s.spec = s.pl.TLSSpec()
	st, warnings, err := s.spec.Validate(time.Now())
	if err != nil {
		return err
	}
	for _, w := range warnings {
		env.Progress.Logf("warning: tls: %s", w)
	}
	s.state = st
	return nil
}

func (s *tlsSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	in := &tls.Installer{Clients: env.Clients, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout}
	return in.Apply(ctx, s.spec, s.state)
}

// Uninstall runs `tls uninstall`: back to HTTP only, what tls created deleted.
func (s *tlsSection) Uninstall(ctx context.Context, env *Env, _ DeleteOptions) (*output.Report, error) {
	in := &tls.Installer{Clients: env.Clients, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout}
	return in.Remove(ctx)
}
