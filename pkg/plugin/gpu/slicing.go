package gpu

import (
	"context"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// SlicingOptions holds the flags of `gpu slicing`: its own, and the section's Spec with the
// operator left as it is (SkipOperator): the release's namespace and chart in Spec.Operator,
// the time-slicing in Spec.Slicing.
type SlicingOptions struct {
	cmdutil.MutatingFlags
	Spec gpucomp.Spec
	// Disable turns time-slicing off (Spec.Slicing.Replicas 1).
	Disable bool

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// newSlicingOptions is a `gpu slicing` with an empty Slicing to bind the flags into.
func newSlicingOptions(f *kube.Factory, streams genericiooptions.IOStreams) *SlicingOptions {
	return &SlicingOptions{Spec: gpucomp.Spec{SkipOperator: true, Slicing: &gpucomp.SlicingSpec{}}, factory: f, streams: streams}
}

// NewCmdSlicing builds `kubectl flexigrobots gpu slicing`.
func NewCmdSlicing(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdSlicing(newSlicingOptions(f, streams))
}

// newCmdSlicing is `gpu slicing` with its flags bound into o.
func newCmdSlicing(o *SlicingOptions) *cobra.Command {
	sl := o.Spec.Slicing
	cmd := &cobra.Command{
		Use:   "slicing --replicas N [--rename-by-default] [--fail-requests-greater-than-one] [--config-name time-slicing-config] [--disable]",
		Short: "Share each GPU between N pods (time-slicing) and prove it on every GPU node",
		Long: `Write the NVIDIA device plugin's time-slicing config (key gpu-time-slicing-config.yaml of
ConfigMap --config-name in the operator's namespace), point the gpu-operator release at it
(devicePlugin.config.name and .default; every other value of the release is kept, the chart
version stays the release's unless --chart-version is given), restart the device plugin when the
config changed (the operator does not always), and wait until every GPU node advertises physical
GPUs x N (nvidia.com/gpu, or nvidia.com/gpu.shared with --rename-by-default). Then print one line
per GPU node. --disable (or --replicas 1) turns time-slicing off and waits for the physical count.
Run again with the same N: nothing changes.

On a cluster set up by hand (the runbook's kubectl create configmap time-slicing and helm upgrade),
the release made by hand is upgraded in place, and the ConfigMap the device plugin read before is
named in a note and kept: --prune-adopted deletes it once the device plugin reads another.`,
		Example: `  # Four pods per physical GPU
  kubectl flexigrobots gpu slicing --replicas 4

  # Advertise the shared GPUs as nvidia.com/gpu.shared, one per pod at most
  kubectl flexigrobots gpu slicing --replicas 4 --rename-by-default --fail-requests-greater-than-one

  # Take over the runbook's time-slicing and delete its old ConfigMap
  kubectl flexigrobots gpu slicing --replicas 4 --prune-adopted

  # Back to whole GPUs
  kubectl flexigrobots gpu slicing --disable

  # An operator installed with --image-registry: give the same registry again
  kubectl flexigrobots gpu slicing --replicas 4 --image-registry mirror.example:5000/ai`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, gpucomp.DefaultSlicingTimeout)
	cmdutil.AddForceConflictsFlag(cmd, &o.MutatingFlags)
	cmdutil.AddPruneAdoptedFlag(cmd, &o.MutatingFlags)
	cmdutil.AddChartFlags(cmd, &o.Spec.Operator.Chart, gpucomp.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(gpucomp.ChartName))
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to upgrade the release to (default: the release's own version)"
	// The upgrade re-renders the operator's templates: a release installed with a registry
	// needs it again (refused otherwise: helm keeps no registry to reuse).
	cmdutil.AddImageRegistryFlags(cmd, &o.Spec.Registry)
	cmd.Flags().StringVar(&o.Spec.Operator.ReleaseNamespace, "release-namespace", gpucomp.DefaultNamespace, "Namespace of the gpu-operator release; the config ConfigMap goes there too")
	cmd.Flags().Var(replicasFlag{&sl.Replicas}, "replicas", "Pods sharing each physical GPU, 1 to 64 (1 turns time-slicing off)")
	cmd.Flags().BoolVar(&sl.RenameByDefault, "rename-by-default", false, "Advertise shared GPUs as nvidia.com/gpu.shared instead of nvidia.com/gpu")
	cmd.Flags().BoolVar(&sl.FailRequestsGreaterThanOne, "fail-requests-greater-than-one", false, "Fail pods that request more than one shared GPU")
	cmd.Flags().StringVar(&sl.ConfigName, "config-name", gpucomp.DefaultConfigName, "Name of the ConfigMap holding the device plugin config")
	cmd.Flags().BoolVar(&o.Disable, "disable", false, "Turn time-slicing off: whole GPUs again")
	return cmd
}

// Validate checks the flags and the Spec they fill, and that the chart's files exist, without
// touching the cluster (exit code 2). --disable is --replicas 1.
func (o *SlicingOptions) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	sl := o.Spec.Slicing
	switch given := sl.Replicas != 0; {
	case o.Disable && given && sl.Replicas != 1:
		return core.UsageErrorf("--disable turns time-slicing off: drop --replicas %d, or drop --disable to share each GPU", sl.Replicas)
	case o.Disable:
		sl.Replicas = 1
	case !given:
		return core.UsageErrorf("--replicas is required: how many pods share each physical GPU, e.g. --replicas 4 (or --disable to turn time-slicing off)")
	}
	return validate(&o.Spec)
}

// Run converges time-slicing through section.Apply and prints the results and the per-node
// table.
func (o *SlicingOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	progress := output.NewProgress(o.streams.ErrOut)
	run, err := newRun(o.factory, progress, o.MutatingFlags)
	if err != nil {
		return err
	}
	rep, err := section.Apply(ctx, gpucomp.Section, run, &o.Spec)
	var nodes []gpucomp.NodeGPU
	if err == nil {
		nodes, err = gpucomp.Nodes(ctx, run.Clients)
	}
	if err != nil {
		if len(rep.Results) > 0 {
			_ = output.PrintReport(o.streams.Out, o.streams.ErrOut, o.Output, rep)
		}
		return err
	}
	return print(o.streams.Out, o.streams.ErrOut, o.Output, rep, nodes)
}

// replicasFlag is --replicas as an int flag whose parse error says what a good value is, where
// pflag's own int flag would quote strconv.
type replicasFlag struct{ value *int }

func (f replicasFlag) String() string {
	if f.value == nil || *f.value == 0 {
		return ""
	}
	return strconv.Itoa(*f.value)
}

func (f replicasFlag) Set(s string) error {
	n, err := gpucomp.ParseReplicas(s)
	if err != nil {
		return err
	}
	*f.value = n
	return nil
}

func (f replicasFlag) Type() string { return "int" }
