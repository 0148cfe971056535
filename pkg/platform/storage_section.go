package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// storageSection runs the storage block through storage.Installer.Apply, as `storage` does.
type storageSection struct {
	pl   *Platform
	spec storage.Spec
}

func (s *storageSection) Name() string    { return "storage" }
func (s *storageSection) Needs() []string { return nil }

func (s *storageSection) Prepare(context.Context, *Env) error {
	var err error
	s.spec, err = s.pl.StorageSpec()
	return err
}

func (s *storageSection) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	in := &storage.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout}
	return in.Apply(ctx, s.spec)
}

// Uninstall runs `storage uninstall` on the block's release namespace; bound claims keep the
// release (reported kept) unless o.Force.
func (s *storageSection) Uninstall(ctx context.Context, env *Env, o DeleteOptions) (*output.Report, error) {
	in := &storage.Installer{Clients: env.Clients, Helm: env.Helm, Progress: env.Progress, DryRun: env.DryRun, Wait: env.Wait, Timeout: env.Timeout}
	ns := or(s.pl.Spec.Storage.ReleaseNamespace, storage.DefaultNamespace)
	return in.Uninstall(ctx, storage.UninstallOptions{Namespace: ns, Force: o.Force, KeepIfBound: true})
}
