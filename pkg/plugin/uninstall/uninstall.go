// Package uninstall is the run every `<section> uninstall` command shares: its flags checked
// (exit 2 before the cluster is read), the clients built from the root's kubeconfig flags, the
// section's uninstall, then its report printed (also after a failure).
package uninstall

import (
	"context"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// Func uninstalls a section with the command's clients and progress.
type Func func(ctx context.Context, clients *kube.Clients, progress *output.Progress) (*output.Report, error)

// RunE is the cobra RunE of an uninstall command whose flags are fl.
func RunE(f *kube.Factory, streams genericiooptions.IOStreams, fl *cmdutil.UninstallFlags, run Func) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := fl.Validate(); err != nil {
			return err
		}
		clients, err := kube.NewClients(f)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		progress := output.NewProgress(streams.ErrOut)
		rep, err := run(ctx, clients, progress)
		progress.Done()
		return output.PrintReportAfter(streams.Out, streams.ErrOut, fl.Output, rep, err)
	}
}
