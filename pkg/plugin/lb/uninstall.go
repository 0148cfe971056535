package lb

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	complb "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/uninstall"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

func newCmdUninstall(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var (
		spec complb.Spec // the release namespace
		fl   cmdutil.UninstallFlags
	)
	cmd := &cobra.Command{
		Use:   "uninstall [--release-namespace NS] [--dry-run=client|server]",
		Short: "Delete the pool and L2Advertisement `lb` applied, then uninstall the MetalLB release through helm",
		Long: `Delete the IPAddressPool and L2Advertisement the lb command applied (its ApplySet, parent ConfigMap
kube-system/flexigrobots-applied-lb), while MetalLB's webhook still answers, then uninstall the MetalLB
release of --release-namespace through helm's uninstall (under whatever name it has), as "helm uninstall"
does: MetalLB's CRDs are templates of its chart (the crds subchart), so they go too, with any metallb.io
object made by hand. The namespace is deleted once nothing but what Kubernetes puts in every namespace
is left in it, when the plugin created it (otherwise it is kept, and the output says what it holds);
kube-proxy's ipvs.strictARP stays. Services of type LoadBalancer keep their spec but get no address
until another load balancer serves them. Run it again and there is nothing to uninstall.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots lb uninstall --dry-run

  # Uninstall MetalLB and its pool
  kubectl flexigrobots lb uninstall`,
		Args: cmdutil.NoArgs,
		RunE: uninstall.RunE(f, streams, &fl, func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error) {
			run := &section.Run{Clients: clients, Helm: helm.NewClientFor(f, progress), Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout}
			return section.Uninstall(ctx, complb.Section, run, &spec, section.UninstallOptions{})
		}),
	}
	cmd.Flags().StringVar(&spec.ReleaseNamespace, "release-namespace", complb.DefaultNamespace, "Namespace of the MetalLB release")
	cmdutil.AddUninstallFlags(cmd, &fl, 5*time.Minute)
	return cmd
}
