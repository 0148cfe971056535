package cmdutil

import (
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/spf13/cobra"
)

// UninstallFlags are the flags every `<section> uninstall` shares.
type UninstallFlags struct {
	DryRun  core.DryRunStrategy
	Wait    bool
	Timeout time.Duration
	Output  string
}

// AddUninstallFlags registers --dry-run, --wait, --timeout and -o (table|json|yaml).
func AddUninstallFlags(cmd *cobra.Command, f *UninstallFlags, defaultTimeout time.Duration) {
	f.DryRun = core.DryRunNone
	cmd.Flags().Var(dryRunValue{&f.DryRun}, "dry-run", `Must be "none", "server", or "client": report what would be deleted, deleting nothing (server: the API server checks each deletion)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = string(core.DryRunClient)
	cmd.Flags().BoolVar(&f.Wait, "wait", true, "Wait until every deleted object is gone (namespaces finish terminating)")
	cmd.Flags().DurationVar(&f.Timeout, "timeout", defaultTimeout, "Give up after this long, the whole command; what was deleted stays deleted and a re-run continues")
	cmd.Flags().StringVarP(&f.Output, "output", "o", "table", "Output format: one of table|json|yaml")
	_ = cmd.RegisterFlagCompletionFunc("dry-run", dryRunCompletion)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
}

// Validate checks the values (exit code 2 on bad input); a dry run never waits.
func (f *UninstallFlags) Validate() error {
	if err := validDryRun(f.DryRun); err != nil {
		return err
	}
	if err := validOutput(f.Output); err != nil {
		return err
	}
	if f.Timeout <= 0 {
		return core.UsageErrorf("--timeout must be positive, e.g. --timeout 10m")
	}
	if f.DryRun.Active() {
		f.Wait = false
	}
	return nil
}
