// Package storage implements `kubectl flexigrobots storage`: the runbook section "Installing a
// StorageClass" (nfs-subdir-external-provisioner, its class as the only default, the smoke test)
// and `storage exports` (the /etc/exports and ufw lines for the cluster's nodes).
package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Options holds the flags of `storage`: the mutating flags, and the section's Spec the other
// flags are bound into.
type Options struct {
	cmdutil.MutatingFlags
	// Spec is what --nfs-server, --nfs-path, --storage-class, --release-namespace, --no-default,
	// --smoke-test, the chart flags, --image-registry and --image-pull-secret fill.
	Spec storage.Spec
	// noDefault is --no-default: Spec.MakeDefault false (left out, Default makes it true).
	noDefault bool

	run     *section.Run
	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdStorage builds `kubectl flexigrobots storage` and its `exports` subcommand.
func NewCmdStorage(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd, _ := newCmdStorage(f, streams)
	return cmd
}

// newCmdStorage is NewCmdStorage and the Options its flags are bound into.
func newCmdStorage(f *kube.Factory, streams genericiooptions.IOStreams) (*cobra.Command, *Options) {
	o := &Options{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "storage --nfs-server HOST --nfs-path /exported/dir [--storage-class nfs-client] [--no-default] [--smoke-test]",
		Short: "Install the NFS provisioner and make its StorageClass the only default (runbook: Installing a StorageClass)",
		Long: `Install or upgrade the nfs-subdir-external-provisioner chart (release
nfs-subdir-external-provisioner, namespace created when missing) pointing at an NFS export, make its
StorageClass the only default one (every other default class gets is-default-class "false", GA
and beta annotations, and is named in the output), and with --smoke-test prove it: the runbook's
test claim and a pod that writes SUCCESS, deleted afterwards, and where the file is on the server.

Run it again and it prints "unchanged". The NFS server must export the path to every node: see
"kubectl flexigrobots storage exports".`,
		Example: `  # The runbook's install, made the only default class, and proven with the test claim
  kubectl flexigrobots storage --nfs-server 192.0.2.10 --nfs-path /nfsroot/kubeflow_nfs --smoke-test

  # From a chart mirror on an air-gapped site, keeping the current default class
  kubectl flexigrobots storage --nfs-server nfs.example.com --nfs-path /exports/k8s \
    --chart-repo https://charts.example.com/nfs --no-default

  # Every image pulled from the mirror that "images mirror --to mirror.example:5000/ai" filled
  kubectl flexigrobots storage --nfs-server 192.0.2.10 --nfs-path /nfsroot/kubeflow_nfs \
    --image-registry mirror.example:5000/ai --image-pull-secret mirror-pull

  # The /etc/exports lines for the nodes, and which nodes an existing file misses
  kubectl flexigrobots storage exports --nfs-path /nfsroot/kubeflow_nfs --check /etc/exports`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Spec.NFSServer, "nfs-server", "", "NFS server address or host name (required)")
	fl.StringVar(&o.Spec.NFSPath, "nfs-path", "", "Exported directory on the NFS server, absolute (required)")
	fl.StringVar(&o.Spec.StorageClass, "storage-class", storage.DefaultClass, "Name of the StorageClass the chart creates")
	fl.StringVar(&o.Spec.ReleaseNamespace, "release-namespace", storage.DefaultNamespace, "Namespace of the release (created when missing)")
	fl.BoolVar(&o.noDefault, "no-default", false, "Do not make the class the default, and leave other default classes alone")
	fl.Lookup("no-default").NoOptDefVal = "true"
	fl.BoolVar(&o.Spec.SmokeTest, "smoke-test", false, "Prove it works: a test claim and a pod that writes SUCCESS on it, both deleted afterwards")
	cmdutil.AddChartFlags(cmd, &o.Spec.Chart, storage.DefaultChartRepo, "")
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to install or upgrade to (default: the release the version matrix picks for the server's Kubernetes version; see `kubectl flexigrobots releases`)"
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(storage.ChartName))
	cmdutil.AddImageRegistryFlags(cmd, &o.Spec.Registry)
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, helm.DefaultTimeout)
	cmd.AddCommand(NewCmdExports(f, streams), NewCmdUninstall(f, streams))
	return cmd, o
}

// Validate checks the flags without touching the cluster (exit code 2): the mutating flags,
// then the Spec (its defaults filled, every problem named by its flag) and the chart's files.
func (o *Options) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	if o.noDefault {
		o.Spec.MakeDefault = new(bool)
	}
	o.Spec.Default()
	return append(o.Spec.Validate(), o.Spec.Load()...).UsageError(flagOf)
}

// Complete builds the run from the root's kubeconfig flags and the mutating flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	progress := output.NewProgress(o.streams.ErrOut)
	o.run = &section.Run{
		Clients: clients, Helm: helm.NewClientFor(o.factory, progress), Progress: progress,
		DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout,
	}
	return nil
}

// Run applies the section (install, the smoke test when asked, then the post-conditions when
// it waited and changed something or they are pending: exit code 3 when they fail; see
// section.Apply) and prints the report (also what was done before an error).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := section.Apply(ctx, storage.Section, o.run, &o.Spec)
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}

// flagOf names the flag of a field of the storage block.
func flagOf(field string) string {
	switch field {
	case "nfsServer":
		return "--nfs-server"
	case "nfsPath":
		return "--nfs-path"
	case "storageClass":
		return "--storage-class"
	case "releaseNamespace":
		return "--release-namespace"
	case "default":
		return "--no-default"
	case "smokeTest":
		return "--smoke-test"
	}
	if f, ok := strings.CutPrefix(field, "chart."); ok {
		return core.ChartFlag(f)
	}
	if f, ok := cmdutil.ImageRegistryFlag(field); ok {
		return f
	}
	return field
}
