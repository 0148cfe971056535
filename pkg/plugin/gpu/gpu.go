// Package gpu implements `kubectl flexigrobots gpu operator|slicing|status`: the runbook section
// "Using GPU" (NVIDIA gpu-operator, time-slicing proven per node). The work is in
// pkg/components/gpu; this package binds the flags into its Spec, runs it through
// section.Apply (section.Uninstall) and prints.
package gpu

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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

// NewCmdGPU builds `kubectl flexigrobots gpu` and its subcommands.
func NewCmdGPU(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gpu",
		Short: "NVIDIA GPUs: gpu-operator, time-slicing, per-node GPU status (runbook \"Using GPU\")",
		Long: `Install NVIDIA's gpu-operator with the host's drivers, share each GPU between pods with
time-slicing, and see per node how many physical GPUs there are and how many are advertised.`,
		Example: `  kubectl flexigrobots gpu operator
  kubectl flexigrobots gpu slicing --replicas 4
  kubectl flexigrobots gpu status`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdOperator(f, streams), NewCmdSlicing(f, streams), NewCmdStatus(f, streams), NewCmdUninstall(f, streams))
	return cmd
}

// newRun is the section.Run of a command that changes the cluster: the clients from the root's
// factory, the flags' dry run, wait and budget.
func newRun(f *kube.Factory, progress *output.Progress, fl cmdutil.MutatingFlags) (*section.Run, error) {
	clients, err := kube.NewClients(f)
	if err != nil {
		return nil, err
	}
	return &section.Run{Clients: clients, Helm: helm.NewClientFor(f, progress), Progress: progress, DryRun: fl.DryRun, Wait: fl.Wait, Timeout: fl.Timeout, ForceConflicts: fl.ForceConflicts, PruneAdopted: fl.PruneAdopted}, nil
}

// flags are the flags of the gpu block's fields (the chart's: core.ChartFlag).
var flags = map[string]string{
	"operator.releaseNamespace":          "--release-namespace",
	"operator.driverEnabled":             "--driver-enabled",
	"slicing.replicas":                   "--replicas",
	"slicing.renameByDefault":            "--rename-by-default",
	"slicing.failRequestsGreaterThanOne": "--fail-requests-greater-than-one",
	"slicing.configName":                 "--config-name",
}

// flagOf names a field of the gpu block as the commands' flags do: operator.chart.certFile is
// --chart-cert-file, slicing.replicas is --replicas.
func flagOf(field string) string {
	if f, ok := flags[field]; ok {
		return f
	}
	if chart, ok := strings.CutPrefix(field, "operator.chart."); ok {
		return core.ChartFlag(chart)
	}
	if f, ok := cmdutil.ImageRegistryFlag(field); ok {
		return f
	}
	return field
}

// validate is the spec's problems and those of the files it names, as one usage error with the
// commands' flags (exit code 2; nil when none).
func validate(spec *gpucomp.Spec) error {
	return append(spec.Validate(), spec.Load()...).UsageError(flagOf)
}

// NodesReport is what -o json|yaml prints: the results (when the command changes something) and
// the GPU nodes.
type NodesReport struct {
	Results []output.Result   `json:"results,omitempty"`
	Notes   []string          `json:"notes,omitempty"`
	Nodes   []gpucomp.NodeGPU `json:"nodes"`
}

// printNodes prints the per-node table (REQUESTED when the nodes carry it).
func printNodes(w io.Writer, nodes []gpucomp.NodeGPU) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	withRequested := len(nodes) > 0 && nodes[0].Requested != nil
	header := "NODE\tPRODUCT\tPHYSICAL\tREPLICAS\tALLOCATABLE\tRESOURCE"
	if withRequested {
		header += "\tREQUESTED"
	}
	fmt.Fprintln(tw, header)
	for _, n := range nodes {
		product := n.Product
		if product == "" {
			product = "<unknown>"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s", n.Node, product, n.Physical, n.Replicas, n.Allocatable, n.Resource)
		if withRequested {
			fmt.Fprintf(tw, "\t%d", *n.Requested)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// print writes the report and nodes in format on w; in table format the report's notes go to notes.
func print(w, notes io.Writer, format string, rep *output.Report, nodes []gpucomp.NodeGPU) error {
	if nodes == nil {
		nodes = []gpucomp.NodeGPU{}
	}
	if format != output.Table {
		r := NodesReport{Nodes: nodes}
		if rep != nil {
			r.Results, r.Notes = rep.Results, rep.Notes
		}
		return output.Print(w, format, r)
	}
	if rep != nil {
		if err := output.PrintReport(w, notes, format, rep); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return printNodes(w, nodes)
}
