package kubeflow

import (
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

func newCmdUninstall(f *cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var (
		deleteData bool
		dryRun     string
		wait       bool
		timeout    time.Duration
		format     string
	)
	cmd := &cobra.Command{
		Use:   "uninstall [--delete-data] [--dry-run=client|server]",
		Short: "Delete what `kubectl flexigrobots kubeflow` applied (its ApplySet), keeping the stores' data unless --delete-data",
		Long: `Delete every object the kubeflow command applied, found by its ApplySet label
(applyset.kubernetes.io/part-of, parent ConfigMap kube-system/flexigrobots-applied-kubeflow): custom
resources first (waiting up to a minute for them to go while their controllers still run), then the
workloads and the rest, then the CRDs, then the namespaces, then the apply record.

Objects it did not apply are never deleted one by one, but a namespace it deletes takes everything in
it: the namespaces are named on stderr before they go. The PersistentVolumeClaims of Kubeflow's stores
(pipelines' MySQL and minio, Katib's MySQL) hold data: they and their namespace are kept, and listed,
unless --delete-data. Run it again and there is nothing to uninstall.`,
		Example: `  # What would go, nothing deleted
  kubectl flexigrobots kubeflow uninstall --dry-run=server

  # Uninstall, keeping the pipelines' and Katib's data (their PVCs and the kubeflow namespace)
  kubectl flexigrobots kubeflow uninstall

  # Everything, data included
  kubectl flexigrobots kubeflow uninstall --delete-data`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch dryRun {
			case cmdutil.DryRunNone, cmdutil.DryRunClient, cmdutil.DryRunServer:
			default:
				return cmdutil.UsageErrorf("invalid --dry-run %q: use none, client or server", dryRun)
			}
			switch format {
			case "table", "json", "yaml":
			default:
				return cmdutil.UsageErrorf("unknown output format %q: use -o with one of table|json|yaml", format)
			}
			if timeout <= 0 {
				return cmdutil.UsageErrorf("--timeout must be positive, e.g. --timeout 10m")
			}
			clients, err := kube.NewClients(f)
			if err != nil {
				return err
			}
			in := &kubeflow.Installer{Clients: clients, Progress: output.NewProgress(streams.ErrOut), DryRun: dryRun,
				Wait: wait && dryRun == cmdutil.DryRunNone, Timeout: timeout}
			rep, err := in.Uninstall(cmd.Context(), deleteData)
			if perr := output.PrintReport(streams.Out, streams.ErrOut, format, rep); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&deleteData, "delete-data", false, "Delete the stores' PersistentVolumeClaims (pipelines' MySQL and minio, Katib's MySQL) and their namespace too")
	cmd.Flags().StringVar(&dryRun, "dry-run", cmdutil.DryRunNone, `Must be "none", "server", or "client": report what would be deleted, deleting nothing (server: the API server checks each deletion)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = cmdutil.DryRunClient
	cmd.Flags().BoolVar(&wait, "wait", true, "Wait until every deleted object is gone (namespaces finish terminating)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "Give up after this long; what was deleted stays deleted and a re-run continues")
	cmd.Flags().StringVarP(&format, "output", "o", "table", "Output format: one of table|json|yaml")
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{cmdutil.DryRunNone, cmdutil.DryRunClient, cmdutil.DryRunServer}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
