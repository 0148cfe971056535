package storage

import (
	"context"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// ExportsOptions holds the flags of `storage exports`.
type ExportsOptions struct {
	Path   string
	Mask   int
	Check  string
	Output string

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// ExportsReport is what `storage exports -o json|yaml` prints.
type ExportsReport struct {
	Path      string                `json:"path"`
	Addresses []storage.NodeAddress `json:"addresses"`
	Exports   []string              `json:"exports"`
	UFW       []string              `json:"ufw"`
	// Missing is set with --check: the nodes the file does not cover.
	Missing []storage.Missing `json:"missing,omitempty"`
}

// NewCmdExports builds `kubectl flexigrobots storage exports`.
func NewCmdExports(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ExportsOptions{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "exports --nfs-path PATH [--mask 32|24|16] [--check FILE]",
		Short: "Print the /etc/exports and ufw lines the NFS server needs for every node, or check a file",
		Long: `Print one /etc/exports line per node address (InternalIP and ExternalIP, options
` + storage.ExportOptions + `) and the matching "ufw allow" lines: what the NFS server needs so
that every node, including nodes added after the StorageClass was installed, can mount the export.

With --check FILE, read an existing exports file (e.g. a copy of the server's /etc/exports) and
list the nodes it does not cover, with the lines to add: exit code 3 when a node is missing.`,
		Example: `  # Lines to paste on the NFS server (then: sudo exportfs -ra)
  kubectl flexigrobots storage exports --nfs-path /nfsroot/kubeflow_nfs

  # Whole /24 networks, like the runbook's provider networks
  kubectl flexigrobots storage exports --nfs-path /nfsroot/kubeflow_nfs --mask 24

  # Which nodes does the server's file miss?
  ssh nfs-server cat /etc/exports > exports && kubectl flexigrobots storage exports --nfs-path /nfsroot/kubeflow_nfs --check exports`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Path, "nfs-path", "", "Exported directory on the NFS server, absolute (required)")
	cmd.Flags().IntVar(&o.Mask, "mask", 32, "Prefix length of each client network: 32 (the node), 24 or 16")
	cmd.Flags().StringVar(&o.Check, "check", "", "Exports file to check: list the nodes it does not cover (exit 3)")
	cmdutil.AddOutputFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	return cmd
}

// Validate checks the flags without touching the cluster (exit code 2).
func (o *ExportsOptions) Validate() error {
	if o.Output == "text" {
		o.Output = output.Table // the word this command used before every command said table
	}
	if err := output.Validate(o.Output, output.Table, output.JSON, output.YAML); err != nil {
		return err
	}
	if err := storage.CheckPath(o.Path).At("nfsPath").UsageError(flagOf); err != nil {
		return err
	}
	o.Path = path.Clean(o.Path)
	if !slices.Contains(storage.ValidMasks, o.Mask) {
		return core.UsageErrorf("--mask %d: use 32 (each node), 24 or 16", o.Mask)
	}
	return nil
}

// Run lists the nodes and prints the lines, or checks the file.
func (o *ExportsOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var clients []string
	if o.Check != "" {
		f, err := os.Open(o.Check)
		if err != nil {
			return core.UsageErrorf("--check: %v: give a readable copy of the NFS server's /etc/exports", err)
		}
		clients, err = storage.ParseExports(f, o.Path)
		f.Close()
		if err != nil {
			return core.UsageErrorf("--check %s: %v", o.Check, err)
		}
	}
	cs, err := o.factory.KubernetesClientSet()
	if err != nil {
		return fmt.Errorf("storage exports: %w", err)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("storage exports: list nodes: %w", err)
	}
	rep := ExportsReport{Path: o.Path, Addresses: storage.NodeAddresses(nodes.Items), Exports: []string{}, UFW: []string{}}
	exports := storage.Exports(rep.Addresses, o.Mask)
	if o.Check != "" {
		rep.Missing = storage.Uncovered(nodes.Items, clients)
		// Only the lines of what is missing.
		var missing []storage.NodeAddress
		for _, m := range rep.Missing {
			for _, a := range m.Addresses {
				missing = append(missing, storage.NodeAddress{Node: m.Node, Address: a})
			}
		}
		exports = storage.Exports(missing, o.Mask)
	}
	for _, e := range exports {
		rep.Exports = append(rep.Exports, storage.ExportLine(o.Path, e))
		rep.UFW = append(rep.UFW, storage.UFWLine(e))
	}
	if o.Output == output.Table {
		o.printText(rep, exports, len(nodes.Items))
	} else if err := output.Print(o.streams.Out, o.Output, rep); err != nil {
		return err
	}
	if len(rep.Missing) > 0 {
		var names []string
		for _, m := range rep.Missing {
			names = append(names, m.Node+" ("+strings.Join(m.Addresses, ", ")+")")
		}
		return &core.ExitError{Code: core.ExitFailed, Err: fmt.Errorf("storage exports: %s does not export %s to %s: %s; add the lines above on the NFS server, then run sudo exportfs -ra", o.Check, o.Path, output.Count(len(names), "node"), strings.Join(names, ", "))}
	}
	return nil
}

func (o *ExportsOptions) printText(rep ExportsReport, exports []storage.Export, nodes int) {
	w := o.streams.Out
	if o.Check != "" && len(rep.Missing) == 0 {
		fmt.Fprintf(w, "# %s exports %s to all %d nodes\n", o.Check, o.Path, nodes)
		return
	}
	if o.Check != "" {
		fmt.Fprintf(w, "# missing in %s:\n", o.Check)
		for _, m := range rep.Missing {
			fmt.Fprintf(w, "#   node %s: %s\n", m.Node, strings.Join(m.Addresses, ", "))
		}
	}
	fmt.Fprintf(w, "# /etc/exports on the NFS server (then: sudo exportfs -ra)\n")
	for i, e := range exports {
		fmt.Fprintf(w, "%s  # %s\n", rep.Exports[i], strings.Join(e.Nodes, ", "))
	}
	fmt.Fprintf(w, "# firewall on the NFS server\n")
	for _, l := range rep.UFW {
		fmt.Fprintln(w, l)
	}
}
