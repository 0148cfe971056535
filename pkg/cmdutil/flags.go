package cmdutil

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
)

// Dry-run modes, as kubectl's --dry-run.
const (
	DryRunNone   = "none"
	DryRunClient = "client"
	DryRunServer = "server"
)

// MutatingFlags are the flags every command that changes the cluster has.
type MutatingFlags struct {
	DryRun  string
	Wait    bool
	Timeout time.Duration
	Output  string
	// Diff: print what would change as a unified diff instead of changing it (see DiffHelp).
	Diff bool
}

// OutputNone is the output format of a run whose output is something else than its report: a
// --diff run's diff, a dry run's objects (see PrintsObjects).
const OutputNone = "none"

// PrintsObjects tells whether a run with these --dry-run and -o values prints the objects it
// would send, as kubectl's `--dry-run=client -o yaml` does, instead of its report. The root
// prints them (the clients record them); the command's own report is then not printed.
func PrintsObjects(dryRun, output string) bool {
	return dryRun != "" && dryRun != DryRunNone && (output == "json" || output == "yaml")
}

// DiffHelp is the help of --diff.
const DiffHelp = `Show what would change, per object, as a unified diff against the live state (a server-side dry run; managed fields and status left out, Secret values masked), and change nothing. Exit 0 nothing would change, 1 something would, 2 invalid input, 3 the diff could not be made`

// AddMutatingFlags registers --dry-run, --wait, --timeout and -o (table|json|yaml).
func AddMutatingFlags(cmd *cobra.Command, f *MutatingFlags, defaultTimeout time.Duration) {
	cmd.Flags().StringVar(&f.DryRun, "dry-run", DryRunNone, `Must be "none", "server", or "client". client: report what each object would become (created, configured) from the live state, sending no change; server: the API server checks every change without persisting it. With -o json|yaml a dry run prints the objects it would send (a v1 List, Secret values masked) instead of its report`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = DryRunClient
	cmd.Flags().BoolVar(&f.Wait, "wait", true, "Wait until what was installed is ready (progress on stderr)")
	cmd.Flags().DurationVar(&f.Timeout, "timeout", defaultTimeout, "Give up after this long, the whole command (every phase shares it); what was applied stays and a re-run continues")
	cmd.Flags().StringVarP(&f.Output, "output", "o", "table", "Output format: one of table|json|yaml (with --dry-run, json|yaml print the objects that would be sent)")
	cmd.Flags().BoolVar(&f.Diff, "diff", false, DiffHelp)
	_ = cmd.RegisterFlagCompletionFunc("dry-run", cobra.FixedCompletions([]string{DryRunNone, DryRunClient, DryRunServer}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
}

// Validate checks the values (exit code 2 on bad input). With --diff it turns the run into a
// server-side dry run without waits whose only output is the diff.
func (f *MutatingFlags) Validate() error {
	if f.Diff {
		switch {
		case f.DryRun == DryRunClient:
			return UsageErrorf("--diff runs a server-side dry run: leave --dry-run out")
		case f.Output != "table" && f.Output != OutputNone:
			return UsageErrorf("--diff prints a unified diff: leave -o out")
		}
		f.DryRun, f.Wait, f.Output = DryRunServer, false, OutputNone
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
		return UsageErrorf("--timeout must be positive, e.g. --timeout 5m")
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
	return UsageErrorf("unknown output format %q: use -o with one of table|json|yaml", v)
}

// validDryRun checks a --dry-run value.
func validDryRun(v string) error {
	switch v {
	case DryRunNone, DryRunClient, DryRunServer:
		return nil
	}
	return UsageErrorf("invalid --dry-run %q: use none, client or server", v)
}

// DryRun tells whether nothing may be persisted.
func (f *MutatingFlags) IsDryRun() bool { return f.DryRun != DryRunNone }

// ChartFlags are shared by every helm-based command (air-gapped mirrors included).
type ChartFlags struct {
	// Repo is the chart repository URL (--chart-repo).
	Repo string
	// Version is the chart version (--chart-version).
	Version string
	// Chart overrides repo+name: a local .tgz or directory, an http(s) URL to a .tgz, or oci://.
	Chart string
	// Set are --set key=value pairs, applied last.
	Set []string
	// ValuesFiles are -f/--values files.
	ValuesFiles []string
	// Repository access, as helm's flags of the same names give it (prefixed: kubectl's own
	// --insecure-skip-tls-verify, --certificate-authority ... are the cluster's): basic auth with
	// the password read from PasswordFile (never a flag value), TLS files, and provenance.
	Username, PasswordFile    string
	CAFile, CertFile, KeyFile string
	InsecureSkipTLSVerify     bool
	// Verify checks the chart's provenance file (.prov) against Keyring.
	Verify  bool
	Keyring string
}

// AddChartFlags registers --chart-repo, --chart-version, --chart, --set and -f with the section's
// defaults.
func AddChartFlags(cmd *cobra.Command, f *ChartFlags, defaultRepo, defaultVersion string) {
	cmd.Flags().StringVar(&f.Repo, "chart-repo", defaultRepo, "Helm chart repository URL (a mirror for air-gapped sites)")
	cmd.Flags().StringVar(&f.Version, "chart-version", defaultVersion, "Chart version to install or upgrade to")
	cmd.Flags().StringVar(&f.Chart, "chart", "", "Chart to use instead of the repository: a local .tgz or folder, an https URL of a .tgz, or oci://registry/repo/chart")
	cmd.Flags().StringArrayVar(&f.Set, "set", nil, "Extra chart values, key=value (repeatable; applied after the command's own values)")
	cmd.Flags().StringArrayVarP(&f.ValuesFiles, "values", "f", nil, "Extra values file (repeatable)")
	fl := cmd.Flags()
	fl.StringVar(&f.Username, "chart-username", "", "Chart repository (or OCI registry) username")
	fl.StringVar(&f.PasswordFile, "chart-password-file", "", "File holding the chart repository's password (with --chart-username; never printed)")
	fl.StringVar(&f.CAFile, "chart-ca-file", "", "CA bundle that signs the chart repository's HTTPS certificate (a mirror's private CA)")
	fl.StringVar(&f.CertFile, "chart-cert-file", "", "Client certificate for the chart repository (with --chart-key-file)")
	fl.StringVar(&f.KeyFile, "chart-key-file", "", "Client key for the chart repository (with --chart-cert-file)")
	fl.BoolVar(&f.InsecureSkipTLSVerify, "chart-insecure-skip-tls-verify", false, "Do not verify the chart repository's HTTPS certificate (insecure)")
	fl.BoolVar(&f.Verify, "chart-verify", false, "Verify the chart's provenance (.prov) with --chart-keyring before using it")
	fl.StringVar(&f.Keyring, "chart-keyring", DefaultKeyring(), "Public keyring for --chart-verify")
}

// DefaultKeyring is helm's default: ~/.gnupg/pubring.gpg.
func DefaultKeyring() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".gnupg", "pubring.gpg")
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

// Validate checks the chart flags (exit code 2 on bad input).
func (f *ChartFlags) Validate() error {
	if f.Chart == "" && f.Repo == "" {
		return UsageErrorf("--chart-repo is empty: give a repository URL or --chart PATH|URL|oci://...")
	}
	for _, s := range f.Set {
		if len(s) == 0 || s[0] == '=' || !containsRune(s, '=') {
			return UsageErrorf("invalid --set %q: want key=value", s)
		}
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return UsageErrorf("--chart-cert-file and --chart-key-file go together: give both")
	}
	if f.PasswordFile != "" && f.Username == "" {
		return UsageErrorf("--chart-password-file needs --chart-username")
	}
	files := []struct{ flag, path string }{{"--chart-password-file", f.PasswordFile}, {"--chart-ca-file", f.CAFile}, {"--chart-cert-file", f.CertFile}, {"--chart-key-file", f.KeyFile}}
	if f.Verify {
		files = append(files, struct{ flag, path string }{"--chart-keyring", f.Keyring})
	}
	for _, x := range files {
		if x.path == "" {
			continue
		}
		if _, err := os.Stat(x.path); err != nil {
			return UsageErrorf("%s %s: %v", x.flag, x.path, err)
		}
	}
	return nil
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

// Wrapf prefixes err with the section and what was being done, keeping exit codes.
func Wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*ExitError); ok {
		return &ExitError{Code: e.Code, Err: fmt.Errorf(format+": %w", append(args, e.Err)...)}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
