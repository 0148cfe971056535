package tls

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	tlscomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// newCmdUninstall builds `kubectl flexigrobots tls uninstall`: `tls --remove` with the flags every
// uninstall shares.
func newCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var fl cmdutil.UninstallFlags
	cmd := &cobra.Command{
		Use:   "uninstall [--dry-run=client|server]",
		Short: "Go back to HTTP only and delete what `tls` created (the same as tls --remove)",
		Long: `Take the HTTPS server (and the ACME challenge exclusion) off Kubeflow's Gateway and allow-list, as
` + "`kubectl flexigrobots kubeflow`" + ` renders them without TLS, then delete what tls created: the Certificate,
the ClusterIssuer and its ACME account key, or the manual certificate's Secret, and the record
istio-system/flexigrobots-tls. On Kubeflow v1.5 authservice is restarted when its allow-list changed.
When Kubeflow is already gone only what tls created is deleted. Run it again and there is nothing to
uninstall.`,
		Example: `  # What would change, nothing deleted
  kubectl flexigrobots tls uninstall --dry-run=server

  # Back to HTTP only
  kubectl flexigrobots tls uninstall`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			run := &section.Run{Clients: clients, Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, tlscomp.Section, run, &tlscomp.Spec{}, section.UninstallOptions{})
		}),
	}
	cmdutil.AddUninstallFlags(cmd, &fl, tlscomp.DefaultTimeout)
	return cmd
}
