package gpu

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// SlicingOptions holds the flags of `gpu slicing`.
type SlicingOptions struct {
	cmdutil.MutatingFlags
	Chart                      core.ChartSource
	ReleaseNamespace           string
	Replicas                   string
	RenameByDefault            bool
	FailRequestsGreaterThanOne bool
	ConfigName                 string
	Disable                    bool

	replicas int
	factory  *kube.Factory
	streams  genericiooptions.IOStreams
}

// NewCmdSlicing builds `kubectl flexigrobots gpu slicing`.
func NewCmdSlicing(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &SlicingOptions{factory: f, streams: streams}
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
Run again with the same N: nothing changes.`,
		Example: `  # Four pods per physical GPU
  kubectl flexigrobots gpu slicing --replicas 4

  # Advertise the shared GPUs as nvidia.com/gpu.shared, one per pod at most
  kubectl flexigrobots gpu slicing --replicas 4 --rename-by-default --fail-requests-greater-than-one

  # Back to whole GPUs
  kubectl flexigrobots gpu slicing --disable`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, 5*time.Minute)
	cmdutil.AddChartFlags(cmd, &o.Chart, gpucomp.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(gpucomp.ChartName))
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to upgrade the release to (default: the release's own version)"
	cmd.Flags().StringVar(&o.ReleaseNamespace, "release-namespace", gpucomp.DefaultNamespace, "Namespace of the gpu-operator release; the config ConfigMap goes there too")
	cmd.Flags().Var(replicasFlag{&o.Replicas}, "replicas", "Pods sharing each physical GPU, 1 to 64 (1 turns time-slicing off)")
	cmd.Flags().BoolVar(&o.RenameByDefault, "rename-by-default", false, "Advertise shared GPUs as nvidia.com/gpu.shared instead of nvidia.com/gpu")
	cmd.Flags().BoolVar(&o.FailRequestsGreaterThanOne, "fail-requests-greater-than-one", false, "Fail pods that request more than one shared GPU")
	cmd.Flags().StringVar(&o.ConfigName, "config-name", gpucomp.DefaultConfigName, "Name of the ConfigMap holding the device plugin config")
	cmd.Flags().BoolVar(&o.Disable, "disable", false, "Turn time-slicing off: whole GPUs again")
	return cmd
}

// Validate checks the flags without touching the cluster (exit code 2).
func (o *SlicingOptions) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	switch {
	case o.Disable && o.Replicas != "" && o.Replicas != "1":
		return core.UsageErrorf("--disable turns time-slicing off: drop --replicas %s, or drop --disable to share each GPU", o.Replicas)
	case o.Disable:
		o.replicas = 1
	case o.Replicas == "":
		return core.UsageErrorf("--replicas is required: how many pods share each physical GPU, e.g. --replicas 4 (or --disable to turn time-slicing off)")
	default:
		n, err := gpucomp.ParseReplicas(o.Replicas)
		if err != nil {
			return err
		}
		o.replicas = n
	}
	if o.ReleaseNamespace == "" {
		return core.UsageErrorf("--release-namespace is empty: give the namespace of the gpu-operator release, e.g. gpu-operator")
	}
	if errs := validation.IsDNS1123Subdomain(o.ConfigName); len(errs) > 0 {
		return core.UsageErrorf("invalid --config-name %q: %s", o.ConfigName, errs[0])
	}
	return cmdutil.ValidateChart(&o.Chart)
}

// Run converges time-slicing and prints the results and the per-node table.
func (o *SlicingOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	progress := output.NewProgress(o.streams.ErrOut)
	in, err := installer(o.factory, progress)
	if err != nil {
		return err
	}
	rep, nodes, err := in.Slicing(ctx, gpucomp.SlicingOptions{
		Namespace: o.ReleaseNamespace, ConfigName: o.ConfigName,
		Config: gpucomp.SlicingConfig{Replicas: o.replicas, RenameByDefault: o.RenameByDefault, FailRequestsGreaterThanOne: o.FailRequestsGreaterThanOne},
		Chart:  o.Chart, DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout,
	})
	if err != nil {
		if len(rep.Results) > 0 {
			_ = output.PrintReport(o.streams.Out, o.streams.ErrOut, o.Output, rep)
		}
		return err
	}
	return print(o.streams.Out, o.streams.ErrOut, o.Output, rep, nodes)
}

// replicasFlag is --replicas as an int flag (its help says int) whose parse error says what a
// good value is, where pflag's own int flag would quote strconv.
type replicasFlag struct{ value *string }

func (f replicasFlag) String() string { return *f.value }

func (f replicasFlag) Set(s string) error {
	if _, err := gpucomp.ParseReplicas(s); err != nil {
		return err
	}
	*f.value = s
	return nil
}

func (f replicasFlag) Type() string { return "int" }
