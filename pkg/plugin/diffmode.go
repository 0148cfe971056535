package plugin

import (
	"errors"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// enableDiff makes each command that has a --diff flag (and each command annotated
// cmdutil.AnnotationDiff) print the objects a dry run would send when given --dry-run with
// -o json|yaml (see printObjects), and run as `kubectl diff` does when asked: the command runs as a
// server-side dry run (its --diff validation sees to that) while the factory's clients record
// every object it checks; then the unified diff is printed on stdout. Exit codes: 0 nothing
// would change, 1 something would, 2 invalid input, 3 the command or the diff failed.
func enableDiff(root *cobra.Command, f *kube.Factory, streams genericiooptions.IOStreams) {
	for _, c := range root.Commands() {
		enableDiff(c, f, streams)
		run := c.RunE
		always := c.Annotations[cmdutil.AnnotationDiff] == "true"
		if run == nil || (!always && c.Flags().Lookup("diff") == nil) {
			continue
		}
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if on, _ := cmd.Flags().GetBool("diff"); !on && !always {
				if format := objectsFormat(cmd); format != "" {
					return printObjects(cmd, args, run, f, streams, format)
				}
				return run(cmd, args)
			}
			f.Diff = diff.NewRecorder()
			defer func() { f.Diff = nil }()
			if err := run(cmd, args); err != nil {
				return diffError(err)
			}
			changed, err := f.Diff.Write(streams)
			switch {
			case err != nil:
				return &core.ExitError{Code: core.ExitDiffError, Err: err}
			case changed:
				return &core.ExitError{Code: core.ExitDiffChanged}
			}
			return nil
		}
	}
}

// objectsFormat is the -o format in which a dry run prints the objects it would send, or ""
// (cmdutil.PrintsObjects). It reads the flags as given, before the command's validation.
func objectsFormat(cmd *cobra.Command) string {
	dry, out := cmd.Flags().Lookup("dry-run"), cmd.Flags().Lookup("output")
	if dry == nil || out == nil || !cmdutil.PrintsObjects(core.DryRunStrategy(dry.Value.String()), out.Value.String()) {
		return ""
	}
	return out.Value.String()
}

// printObjects runs a dry run with the factory's clients recording each object it would send,
// then prints them as one v1 List in format (kubectl's --dry-run -o yaml), Secret values masked.
// A run that failed before recording anything prints nothing; one that failed later prints what
// it got to, then returns its error.
func printObjects(cmd *cobra.Command, args []string, run func(*cobra.Command, []string) error, f *kube.Factory, streams genericiooptions.IOStreams, format string) error {
	f.Diff = diff.NewRecorder()
	defer func() { f.Diff = nil }()
	err := run(cmd, args)
	if err != nil && f.Diff.Len() == 0 {
		return err
	}
	if perr := output.Print(streams.Out, format, f.Diff.List()); perr != nil && err == nil {
		err = perr
	}
	return err
}

// diffError keeps a usage error's exit code 2; any other failure is 3, never 1 (which a
// --diff run uses for "something would change").
func diffError(err error) error {
	var e *core.ExitError
	if errors.As(err, &e) && e.Code == core.ExitUsage {
		return err
	}
	return &core.ExitError{Code: core.ExitDiffError, Err: err}
}
