package gpu

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// NewCmdUninstall builds `kubectl flexigrobots gpu uninstall`.
func NewCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var (
		spec gpucomp.Spec
		fl   cmdutil.UninstallFlags
	)
	cmd := &cobra.Command{
		Use:   "uninstall [--release-namespace gpu-operator] [--dry-run=client|server]",
		Short: "Uninstall the gpu-operator release through helm and delete the time-slicing ConfigMaps",
		Long: `Uninstall the gpu-operator release of --release-namespace through helm's uninstall (under whatever
name it has: the runbook's is generated), then delete the time-slicing ConfigMaps "gpu slicing" wrote:
the one the release points the device plugin at (--config-name) and the default one (one not made by
the plugin is left, with a note). Helm keeps the CRDs of the chart's crds/ folders; the plugin deletes
those it created that hold no custom resource (one that holds any is kept and named). The namespace
is deleted once nothing but what Kubernetes puts in every namespace is left in it, when the plugin
created it (otherwise it is kept, and the output says what it holds). The nodes keep the labels
feature discovery set. Run it again and there is nothing to uninstall.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots gpu uninstall --dry-run

  # Uninstall the operator and the time-slicing config
  kubectl flexigrobots gpu uninstall`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			run := &section.Run{Clients: clients, Helm: helm.NewClientFor(f, progress), Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, gpucomp.Section, run, &spec, section.UninstallOptions{})
		}),
	}
	cmd.Flags().StringVar(&spec.Operator.ReleaseNamespace, "release-namespace", gpucomp.DefaultNamespace, "Namespace of the gpu-operator release and the time-slicing ConfigMap")
	cmdutil.AddUninstallFlags(cmd, &fl, helm.DefaultTimeout)
	return cmd
}
