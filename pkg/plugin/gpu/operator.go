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
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// OperatorOptions holds the flags of `gpu operator`: its own, and the operator's fields of the
// section's Spec.
type OperatorOptions struct {
	cmdutil.MutatingFlags
	Spec gpucomp.Spec

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdOperator builds `kubectl flexigrobots gpu operator`.
func NewCmdOperator(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdOperator(&OperatorOptions{factory: f, streams: streams})
}

// newCmdOperator is `gpu operator` with its flags bound into o.
func newCmdOperator(o *OperatorOptions) *cobra.Command {
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
  kubectl flexigrobots gpu operator --chart-repo https://charts.example.org/nvidia --chart-version v26.7.0

  # The operator's images, and those of the pods its ClusterPolicy starts, from the mirror
  kubectl flexigrobots gpu operator --image-registry mirror.example:5000/ai --image-pull-secret mirror-pull`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, gpucomp.DefaultTimeout)
	cmdutil.AddChartFlags(cmd, &o.Spec.Operator.Chart, gpucomp.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(gpucomp.ChartName))
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to install or upgrade to (default: the release the version matrix picks for the server's Kubernetes version; see `kubectl flexigrobots releases`)"
	cmd.Flags().StringVar(&o.Spec.Operator.ReleaseNamespace, "release-namespace", gpucomp.DefaultNamespace, "Namespace of the gpu-operator release (created when missing)")
	cmd.Flags().BoolVar(&o.Spec.Operator.DriverEnabled, "driver-enabled", false, "Let the operator install the NVIDIA driver (false: the driver is on the host, as in the runbook)")
	cmdutil.AddImageRegistryFlags(cmd, &o.Spec.Registry)
	return cmd
}

// Validate checks the flags and the Spec they fill, and that the chart's files exist, without
// touching the cluster (exit code 2).
func (o *OperatorOptions) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	return validate(&o.Spec)
}

// Run installs or upgrades the operator through section.Apply (the post-conditions after a
// wait, when it changed something or they are pending: the gpu checks, exit code 3) and prints
// what it did.
func (o *OperatorOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	progress := output.NewProgress(o.streams.ErrOut)
	run, err := newRun(o.factory, progress, o.MutatingFlags)
	if err != nil {
		return err
	}
	rep, err := section.Apply(ctx, gpucomp.Section, run, &o.Spec)
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}
