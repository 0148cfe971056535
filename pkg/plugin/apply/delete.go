package apply

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// DeleteOptions holds the flags of `delete`.
type DeleteOptions struct {
	cmdutil.UninstallFlags
	selection
	section.UninstallOptions

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdDelete builds `kubectl flexigrobots delete`.
func NewCmdDelete(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &DeleteOptions{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "delete -f plugins.yaml [--only SECTION,...] [--skip SECTION,...] [--delete-data] [--force]",
		Short: "Take down the platform a file declares, section by section, in reverse order",
		Long: `Uninstall every section the platform file declares through the same code as the section's own
uninstall command, in the reverse of apply's order: profiles and tls first, then kubeflow, then lb
and storage; gpu at once, beside them. A section starts once the sections that need it are
deleted, and is skipped when one of them failed (what it serves must not go while that is still
there).

Data is kept unless --delete-data: the claims of Kubeflow's stores with their namespace, and then
the storage release that serves claims still bound (kept, not refused; --force uninstalls it
anyway). What each section kept is in the summary's notes. Only what the plugin made is deleted:
the members of its apply sets, its helm releases (through helm's uninstall), the PodDefaults it
labelled, and what helm leaves that holds nothing (see each section's uninstall --help). The file
is validated as apply does (exit 2, nothing deleted). Run it again and every section is
"unchanged". Exit codes: 0 every section deleted, 1 a section failed or was skipped, 2 invalid
file or flags (nothing deleted).`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots delete -f plugins.yaml --dry-run=server

  # Take the platform down, keeping Kubeflow's data and the storage that serves it
  kubectl flexigrobots delete -f plugins.yaml

  # Everything, data included
  kubectl flexigrobots delete -f plugins.yaml --delete-data`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, "The platform file (e.g. plugins.yaml) that was applied", "Delete", "Leave these sections installed (comma-separated)")
	cmd.Flags().BoolVar(&o.DeleteData, "delete-data", false, "Delete the claims of Kubeflow's stores (pipelines' MySQL and minio, Katib's MySQL) and their namespace too")
	cmd.Flags().BoolVar(&o.Force, "force", false, "Uninstall storage even while claims of its StorageClass are bound (they and their data stay)")
	cmdutil.AddUninstallFlags(cmd, &o.UninstallFlags, 30*time.Minute)
	cmd.Flags().Lookup("timeout").Usage = "Give up on a section after this long (each section's budget); what was deleted stays deleted and a re-run continues"
	return cmd
}

// Validate checks the flags and the whole file without touching the cluster (exit code 2).
func (o *DeleteOptions) Validate() error {
	if err := o.UninstallFlags.Validate(); err != nil {
		return err
	}
	return o.load("give the platform file that was applied, e.g. -f plugins.yaml")
}

// Run deletes the sections and prints the summary (also after a failure).
func (o *DeleteOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	r, err := newRun("delete", o.factory, o.streams, o.DryRun, o.Wait, o.Timeout)
	if err != nil {
		return err
	}
	r.Progress.Logf("delete: platform %s from %s on %s: %s", o.platform.Metadata.Name, o.File, r.Server, output.Count(len(o.sections), "section"))
	// delete -f keeps the storage release that serves bound claims (reported kept), where
	// storage uninstall refuses.
	o.KeepIfBound = true
	sum, err := platform.Delete(ctx, o.platform, o.sections, r, o.UninstallOptions)
	if perr := platform.PrintSummary(o.streams.Out, o.streams.ErrOut, o.Output, sum); perr != nil && err == nil {
		err = perr
	}
	return err
}
