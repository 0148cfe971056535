package kubeflow

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

func newCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var (
		o  section.UninstallOptions
		fl cmdutil.UninstallFlags
	)
	cmd := &cobra.Command{
		Use:   "uninstall [--delete-data] [--dry-run=client|server]",
		Short: "Delete what `kubectl flexigrobots kubeflow` applied (its ApplySet), keeping the stores' data unless --delete-data",
		Long: `Delete every object the kubeflow command applied, found by its ApplySet label
(applyset.kubernetes.io/part-of, parent ConfigMap kube-system/flexigrobots-applied-kubeflow): custom
resources first (waiting up to a minute for them to go while their controllers still run), then the
workloads and the rest, then the CRDs, then the namespaces, then the apply record.

Objects it did not apply are never deleted one by one, but a namespace it deletes takes everything in
it: the namespaces are named on stderr before they go. The PersistentVolumeClaims of Kubeflow's stores
(pipelines' MySQL and minio, Katib's MySQL) hold data: they and their namespace are kept, and listed,
unless --delete-data. Run it again and there is nothing to uninstall.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots kubeflow uninstall --dry-run=server

  # Uninstall, keeping the pipelines' and Katib's data (their PVCs and the kubeflow namespace)
  kubectl flexigrobots kubeflow uninstall

  # Everything, data included
  kubectl flexigrobots kubeflow uninstall --delete-data`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			r := &section.Run{Clients: clients, Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, kubeflow.Section, r, &kubeflow.Spec{}, o)
		}),
	}
	cmd.Flags().BoolVar(&o.DeleteData, "delete-data", false, "Delete the stores' PersistentVolumeClaims (pipelines' MySQL and minio, Katib's MySQL) and their namespace too")
	cmdutil.AddUninstallFlags(cmd, &fl, kubeflow.DefaultUninstallTimeout)
	return cmd
}
