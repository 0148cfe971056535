package cmdutil

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// AnnotationDiff on a command makes every run of it a --diff run (the `diff` verb).
const AnnotationDiff = "flexigrobots.io/diff"

// MutatingFlags are the flags every command that changes the cluster has.
type MutatingFlags struct {
	DryRun  core.DryRunStrategy
	Wait    bool
	Timeout time.Duration
	Output  string
	// Diff: print what would change as a unified diff instead of changing it (see DiffHelp).
	Diff bool
	// ForceConflicts is --force-conflicts, on the commands that register it (AddForceConflictsFlag).
	ForceConflicts bool
	// PruneAdopted is --prune-adopted, on the commands that register it (AddPruneAdoptedFlag).
	PruneAdopted bool
}

// ForceConflictsHelp is the help of --force-conflicts.
const ForceConflictsHelp = "Take over fields another field manager owns, also where an object made by hand (kubectl, helm) holds other values than this command applies (like kubectl apply --server-side --force-conflicts); without it such an object stops the section before it changes anything"

// AddForceConflictsFlag registers --force-conflicts into f.ForceConflicts.
func AddForceConflictsFlag(cmd *cobra.Command, f *MutatingFlags) {
	cmd.Flags().BoolVar(&f.ForceConflicts, "force-conflicts", false, ForceConflictsHelp)
}

// PruneAdoptedHelp is the help of --prune-adopted.
const PruneAdoptedHelp = "Delete what a platform built by hand left that this command took over and no longer uses (the runbook's time-slicing ConfigMap once the device plugin reads the plugin's own); without it they are named in a note and kept"

// AddPruneAdoptedFlag registers --prune-adopted into f.PruneAdopted.
func AddPruneAdoptedFlag(cmd *cobra.Command, f *MutatingFlags) {
	cmd.Flags().BoolVar(&f.PruneAdopted, "prune-adopted", false, PruneAdoptedHelp)
}

// OutputNone is the output format of a run whose output is something else than its report: a
// --diff run's diff, a dry run's objects (see PrintsObjects).
const OutputNone = output.None

// PrintsObjects tells whether a run with these --dry-run and -o values prints the objects it
// would send, as kubectl's `--dry-run=client -o yaml` does, instead of its report. The root
// prints them (the clients record them); the command's own report is then not printed.
func PrintsObjects(dryRun core.DryRunStrategy, output string) bool {
	return dryRun.Active() && (output == "json" || output == "yaml")
}

// DiffHelp is the help of --diff.
const DiffHelp = `Show what would change, per object, as a unified diff against the live state (a server-side dry run; managed fields and status left out, Secret values masked), and change nothing. Exit 0 nothing would change, 1 something would, 2 invalid input, 3 the diff could not be made`

// AddMutatingFlags registers --dry-run, --wait, --timeout and -o (table|json|yaml).
func AddMutatingFlags(cmd *cobra.Command, f *MutatingFlags, defaultTimeout time.Duration) {
	f.DryRun = core.DryRunNone
	cmd.Flags().Var(dryRunValue{&f.DryRun}, "dry-run", `Must be "none", "server", or "client". client: report what each object would become (created, configured) from the live state, sending no change; server: the API server checks every change without persisting it. With -o json|yaml a dry run prints the objects it would send (a v1 List, Secret values masked) instead of its report`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = string(core.DryRunClient)
	cmd.Flags().BoolVar(&f.Wait, "wait", true, "Wait until what was installed is ready (progress on stderr)")
	cmd.Flags().DurationVar(&f.Timeout, "timeout", defaultTimeout, "Give up after this long, the whole command (every phase shares it); what was applied stays and a re-run continues")
	cmd.Flags().StringVarP(&f.Output, "output", "o", "table", "Output format: one of table|json|yaml (with --dry-run, json|yaml print the objects that would be sent)")
	cmd.Flags().BoolVar(&f.Diff, "diff", false, DiffHelp)
	_ = cmd.RegisterFlagCompletionFunc("dry-run", dryRunCompletion)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
}

// Validate checks the values (exit code 2 on bad input). With --diff it turns the run into a
// server-side dry run without waits whose only output is the diff.
func (f *MutatingFlags) Validate() error {
	if f.Diff {
		switch {
		case f.DryRun == core.DryRunClient:
			return core.UsageErrorf("--diff runs a server-side dry run: leave --dry-run out")
		case f.Output != "table" && f.Output != OutputNone:
			return core.UsageErrorf("--diff prints a unified diff: leave -o out")
		}
		f.DryRun, f.Wait, f.Output = core.DryRunServer, false, OutputNone
	}
	if err := validDryRun(f.DryRun); err != nil {
		return err
	}
	if f.Output != OutputNone || !f.Diff {
		if err := validOutput(f.Output); err != nil {
			return err
		}
	}
	if f.Timeout <= 0 {
		return core.UsageErrorf("--timeout must be positive, e.g. --timeout 5m")
	}
	if PrintsObjects(f.DryRun, f.Output) {
		f.Output = OutputNone // the root prints the objects instead of the report
	}
	return nil
}

// validOutput checks a -o value: table, json or yaml.
func validOutput(v string) error {
	switch v {
	case "table", "json", "yaml":
		return nil
	}
	return core.UsageErrorf("unknown output format %q: use -o with one of table|json|yaml", v)
}

// validDryRun checks a --dry-run value.
func validDryRun(v core.DryRunStrategy) error {
	_, err := core.ParseDryRun(string(v))
	return err
}

// dryRunValue binds --dry-run to a core.DryRunStrategy (checked by Validate, which says how to
// spell it).
type dryRunValue struct{ p *core.DryRunStrategy }

func (v dryRunValue) String() string {
	if v.p == nil || *v.p == "" {
		return string(core.DryRunNone)
	}
	return string(*v.p)
}
func (v dryRunValue) Set(s string) error { *v.p = core.DryRunStrategy(s); return nil }
func (v dryRunValue) Type() string       { return "string" }

// dryRunCompletion completes --dry-run with its three strategies.
var dryRunCompletion = cobra.FixedCompletions([]string{string(core.DryRunNone), string(core.DryRunClient), string(core.DryRunServer)}, cobra.ShellCompDirectiveNoFileComp)

// IsDryRun tells whether nothing may be persisted.
func (f *MutatingFlags) IsDryRun() bool { return f.DryRun.Active() }

// AddChartFlags registers --chart-repo, --chart-version, --chart, --set and -f with the section's
// defaults.
func AddChartFlags(cmd *cobra.Command, f *core.ChartSource, defaultRepo, defaultVersion string) {
	cmd.Flags().StringVar(&f.Repo, "chart-repo", defaultRepo, "Helm chart repository URL (a mirror for air-gapped sites)")
	cmd.Flags().StringVar(&f.Version, "chart-version", defaultVersion, "Chart version to install or upgrade to")
	cmd.Flags().StringVar(&f.Chart, "chart", "", "Chart to use instead of the repository: a local .tgz or folder, an https URL of a .tgz, or oci://registry/repo/chart")
	cmd.Flags().StringArrayVar((*[]string)(&f.Set), "set", nil, "Extra chart values, key=value (repeatable; applied after the command's own values)")
	cmd.Flags().StringArrayVarP(&f.ValuesFiles, "values", "f", nil, "Extra values file (repeatable)")
	fl := cmd.Flags()
	fl.StringVar(&f.Username, "chart-username", "", "Chart repository (or OCI registry) username")
	fl.StringVar(&f.PasswordFile, "chart-password-file", "", "File holding the chart repository's password (with --chart-username; never printed)")
	fl.StringVar(&f.CAFile, "chart-ca-file", "", "CA bundle that signs the chart repository's HTTPS certificate (a mirror's private CA)")
	fl.StringVar(&f.CertFile, "chart-cert-file", "", "Client certificate for the chart repository (with --chart-key-file)")
	fl.StringVar(&f.KeyFile, "chart-key-file", "", "Client key for the chart repository (with --chart-cert-file)")
	fl.BoolVar(&f.InsecureSkipTLSVerify, "chart-insecure-skip-tls-verify", false, "Do not verify the chart repository's HTTPS certificate (insecure)")
	fl.BoolVar(&f.Verify, "chart-verify", false, "Verify the chart's provenance (.prov) with --chart-keyring before using it")
	fl.StringVar(&f.Keyring, "chart-keyring", core.DefaultKeyring(), "Public keyring for --chart-verify")
}

// ValidateChart checks the chart flags, the values and the files they name, every problem
// with its flag's name (exit code 2).
func ValidateChart(c *core.ChartSource) error {
	return append(c.Validate(), c.CheckFiles()...).UsageError(core.ChartFlag)
}

// CompleteChartVersions makes --chart-version complete with the versions list gives for the
// repository in --chart-repo (as typed on the command line, or its default), newest first.
func CompleteChartVersions(cmd *cobra.Command, list func(repo string) ([]string, error)) {
	_ = cmd.RegisterFlagCompletionFunc("chart-version", func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		repo, err := c.Flags().GetString("chart-repo")
		if err != nil || repo == "" {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		versions, err := list(repo)
		if err != nil {
			cobra.CompErrorln(err.Error())
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return versions, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
	})
}

// AddOutputFlag registers -o/--output with the allowed formats (the first is the default) and their
// shell completion.
func AddOutputFlag(cmd *cobra.Command, target *string, formats ...string) {
	*target = formats[0]
	cmd.Flags().StringVarP(target, "output", "o", formats[0], "Output format: one of "+strings.Join(formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}
