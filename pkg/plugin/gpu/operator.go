package gpu

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// OperatorOptions holds the flags of `gpu operator`.
type OperatorOptions struct {
	cmdutil.MutatingFlags
	Chart            core.ChartSource
	ReleaseNamespace string
	DriverEnabled    bool

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdOperator builds `kubectl flexigrobots gpu operator`.
func NewCmdOperator(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &OperatorOptions{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "operator [--release-namespace gpu-operator] [--driver-enabled=false]",
		Short: "Install or upgrade NVIDIA's gpu-operator (drivers on the host: driver.enabled=false)",
		Long: `Install NVIDIA's gpu-operator chart, or upgrade the release of it already in the namespace under
any name (e.g. gpu-operator-1660041098 from helm install --generate-name) instead of installing a
second one. A time-slicing config set by 'gpu slicing' is kept. With --wait it waits until the
ClusterPolicy is ready, then checks the operator, the ClusterPolicy and every GPU node (section gpu
of verify). Before anything it warns when no node advertises NVIDIA GPUs.`,
		Example: `  kubectl flexigrobots gpu operator

  # Air-gapped mirror of the chart repository, another chart version
  kubectl flexigrobots gpu operator --chart-repo https://charts.example.org/nvidia --chart-version v26.7.0`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, 10*time.Minute)
	cmdutil.AddChartFlags(cmd, &o.Chart, gpucomp.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(gpucomp.ChartName))
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to install or upgrade to (default: " + gpucomp.DefaultChartVersion + " on Kubernetes >= 1.25, " + gpucomp.ChartRule.LastWithout + ", the last chart without CEL rules, below)"
	cmd.Flags().StringVar(&o.ReleaseNamespace, "release-namespace", gpucomp.DefaultNamespace, "Namespace of the gpu-operator release (created when missing)")
	cmd.Flags().BoolVar(&o.DriverEnabled, "driver-enabled", false, "Let the operator install the NVIDIA driver (false: the driver is on the host, as in the runbook)")
	return cmd
}

// Validate checks the flags without touching the cluster (exit code 2).
func (o *OperatorOptions) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	if o.ReleaseNamespace == "" {
		return core.UsageErrorf("--release-namespace is empty: give the namespace of the gpu-operator release, e.g. gpu-operator")
	}
	return cmdutil.ValidateChart(&o.Chart)
}

// Run installs or upgrades the operator and prints what it did.
func (o *OperatorOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	progress := output.NewProgress(o.streams.ErrOut)
	in, err := installer(o.factory, progress)
	if err != nil {
		return err
	}
	rep, err := in.Operator(ctx, gpucomp.OperatorOptions{
		Namespace: o.ReleaseNamespace, DriverEnabled: o.DriverEnabled, Chart: o.Chart,
		DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout,
	})
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}
