package storage

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// NewCmdUninstall builds `kubectl flexigrobots storage uninstall`.
func NewCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var (
		spec  storage.Spec // --release-namespace: what an uninstall needs of the Spec
		force bool
		fl    cmdutil.UninstallFlags
	)
	cmd := &cobra.Command{
		Use:   "uninstall [--release-namespace NS] [--force]",
		Short: "Uninstall the NFS provisioner release through helm, refusing while claims of its StorageClass are bound",
		Long: `Uninstall the nfs-subdir-external-provisioner release of --release-namespace through helm's uninstall
(under whatever name it has): its Deployment and its StorageClass go. While PersistentVolumeClaims of
that StorageClass are bound it refuses (exit 2, nothing changed, the claims listed): their volumes
would lose the provisioner that deletes or archives them. --force uninstalls anyway. Claims of the
class being deleted, and Released volumes the provisioner is to delete, get up to a minute to go
first. Then the namespace is deleted once nothing but what Kubernetes puts in every namespace is
left in it, when the plugin created it (otherwise it is kept, and the output says what it holds).

Claims, volumes and the data on the NFS export are never deleted (the plugin cannot reach the export).
StorageClasses that "storage" made non-default stay non-default: the output says how to mark one.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots storage uninstall --dry-run

  # Uninstall (refused while claims of nfs-client are bound)
  kubectl flexigrobots storage uninstall`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			r := &section.Run{Clients: clients, Helm: helm.NewClientFor(f, progress), Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, storage.Section, r, &spec, section.UninstallOptions{Force: force})
		}),
	}
	cmd.Flags().StringVar(&spec.ReleaseNamespace, "release-namespace", storage.DefaultNamespace, "Namespace of the release")
	cmd.Flags().BoolVar(&force, "force", false, "Uninstall even while claims of the StorageClass are bound (they and their data stay)")
	cmdutil.AddUninstallFlags(cmd, &fl, helm.DefaultTimeout)
	return cmd
}
