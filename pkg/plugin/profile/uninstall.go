package profile

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	compprofile "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// newCmdUninstall builds `kubectl flexigrobots profile uninstall`.
func newCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var fl cmdutil.UninstallFlags
	cmd := &cobra.Command{
		Use:   "uninstall [--dry-run=client|server]",
		Short: "Delete the PodDefault access-ml-pipeline from every namespace where this plugin made it",
		Long: `Delete the PodDefault access-ml-pipeline wherever ` + "`profile poddefault`" + ` (or the platform file's profiles
block) made it: every namespace, whether or not its Profile still exists. A PodDefault of that name
made by anyone else (no app.kubernetes.io/managed-by=kubectl-flexigrobots label) is left, and reported.
Without Kubeflow's PodDefault kind there is nothing to uninstall. Run it again and there is nothing to
uninstall.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots profile uninstall --dry-run=server

  # Delete them
  kubectl flexigrobots profile uninstall`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			run := &section.Run{Clients: clients, Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, compprofile.Section, run, &compprofile.Spec{}, section.UninstallOptions{})
		}),
	}
	cmdutil.AddUninstallFlags(cmd, &fl, compprofile.DefaultTimeout)
	cmd.Flags().Lookup("wait").Usage = "Accepted for symmetry with the other uninstalls: a PodDefault has no finalizer, it is gone when deleted"
	return cmd
}
