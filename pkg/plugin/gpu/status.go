package gpu

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// StatusOptions holds the flags of `gpu status`.
type StatusOptions struct {
	Output string

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdStatus builds `kubectl flexigrobots gpu status`.
func NewCmdStatus(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &StatusOptions{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "status [-o table|json|yaml]",
		Short: "Per GPU node: product, physical GPUs, time-slicing replicas, allocatable, GPUs requested by pods",
		Example: `  kubectl flexigrobots gpu status
  kubectl flexigrobots gpu status -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddOutputFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	return cmd
}

// Validate checks the flags (exit code 2).
func (o *StatusOptions) Validate() error {
	return output.Validate(o.Output, output.Table, output.JSON, output.YAML)
}

// Run prints the GPU nodes (see gpucomp.Status).
func (o *StatusOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return err
	}
	gpus, err := gpucomp.Status(ctx, clients)
	if err != nil {
		return err
	}
	if len(gpus) == 0 && o.Output == output.Table {
		fmt.Fprintf(o.streams.ErrOut, "gpu status: no node advertises NVIDIA GPUs: %s\n", gpucomp.DriverCheckHint)
	}
	return print(o.streams.Out, o.streams.ErrOut, o.Output, nil, gpus)
}
