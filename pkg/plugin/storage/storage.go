// Package storage implements `kubectl flexigrobots storage`: the runbook section "Installing a
// StorageClass" (nfs-subdir-external-provisioner, its class as the only default, the smoke test)
// and `storage exports` (the /etc/exports and ufw lines for the cluster's nodes).
package storage

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// Options holds the flags of `storage`.
type Options struct {
	cmdutil.MutatingFlags
	Chart     core.ChartSource
	Server    string
	Path      string
	Class     string
	Namespace string
	NoDefault bool
	SmokeTest bool

	config   storage.Config
	progress *output.Progress
	in       *storage.Installer
	factory  *kube.Factory
	streams  genericiooptions.IOStreams
}

// NewCmdStorage builds `kubectl flexigrobots storage` and its `exports` subcommand.
func NewCmdStorage(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
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
	fl.StringVar(&o.Server, "nfs-server", "", "NFS server address or host name (required)")
	fl.StringVar(&o.Path, "nfs-path", "", "Exported directory on the NFS server, absolute (required)")
	fl.StringVar(&o.Class, "storage-class", storage.DefaultClass, "Name of the StorageClass the chart creates")
	fl.StringVar(&o.Namespace, "release-namespace", storage.DefaultNamespace, "Namespace of the release (created when missing)")
	fl.BoolVar(&o.NoDefault, "no-default", false, "Do not make the class the default, and leave other default classes alone")
	fl.BoolVar(&o.SmokeTest, "smoke-test", false, "Prove it works: a test claim and a pod that writes SUCCESS on it, both deleted afterwards")
	cmdutil.AddChartFlags(cmd, &o.Chart, storage.DefaultChartRepo, storage.DefaultChartVersion)
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(storage.ChartName))
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, helm.DefaultTimeout)
	cmd.AddCommand(NewCmdExports(f, streams), NewCmdUninstall(f, streams))
	return cmd
}

// Validate checks the flags without touching the cluster (exit code 2).
func (o *Options) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	o.config = storage.Config{Server: o.Server, Path: o.Path, Class: o.Class, Namespace: o.Namespace, Default: !o.NoDefault, Chart: o.Chart}
	return o.config.Validate()
}

// Complete builds the clients from the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	o.progress = output.NewProgress(o.streams.ErrOut)
	o.in = &storage.Installer{
		Clients: clients, Helm: helm.NewClientFor(o.factory, o.progress), Progress: o.progress,
		DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout,
	}
	return nil
}

// Run installs, checks the post-conditions, runs the smoke test when asked and prints the report
// (also what was done before an error).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := o.run(ctx)
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}

func (o *Options) run(ctx context.Context) (*output.Report, error) {
	return o.in.Apply(ctx, storage.Spec{Config: o.config, SmokeTest: o.SmokeTest})
}
