package cmdutil

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// NoArgs is cobra.NoArgs as a usage error (exit 2) that says what to do: a subcommand name
// that is close gets cobra's suggestions, and a dry-run mode given without "=" (--dry-run
// server parses as --dry-run=client plus an argument "server") gets the right spelling.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	arg := args[0]
	if fl := cmd.Flags().Lookup("dry-run"); fl != nil && fl.Changed && core.DryRunStrategy(arg) != "" && validDryRun(core.DryRunStrategy(arg)) == nil {
		return core.UsageErrorf("--dry-run takes its mode after '=': --dry-run=%s (alone, --dry-run means --dry-run=client)", arg)
	}
	msg := fmt.Sprintf("unknown argument %q for %q", arg, cmd.CommandPath())
	if cmd.HasAvailableSubCommands() {
		msg = fmt.Sprintf("unknown command %q for %q", arg, cmd.CommandPath())
		if cmd.SuggestionsMinimumDistance <= 0 {
			cmd.SuggestionsMinimumDistance = 2 // cobra's default, which only its own lookup sets
		}
		if s := cmd.SuggestionsFor(arg); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
	}
	return core.UsageErrorf("%s\nSee '%s --help' for usage.", msg, cmd.CommandPath())
}

// restated matches pflag's `invalid argument "V" for "--F" flag: ` in front of a flag value's own
// error that begins `invalid --F "V"`.
var restated = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?--([^"]+)" flag: invalid --(\S+) "(.*?)"`)

// FlagError makes a flag that does not parse (unknown, bad value) a usage error (exit 2) with a
// pointer to --help; a duration without a unit says how to write one.
func FlagError(cmd *cobra.Command, err error) error {
	if args := cmd.Flags().Args(); cmd.HasAvailableSubCommands() && len(args) > 0 {
		// `gpu slicng --replicas 4`: the misspelt command is the mistake, not the flag.
		return NoArgs(cmd, args)
	}
	msg := err.Error()
	if m := restated.FindStringSubmatch(msg); m != nil && m[1] == m[4] && m[2] == m[3] {
		msg = strings.TrimPrefix(msg, m[0]) // pflag's words before ours, which say it already
		msg = fmt.Sprintf("invalid --%s %q", m[3], m[4]) + msg
	}
	if strings.Contains(msg, "time: missing unit in duration") {
		msg += " (give a unit, e.g. 90s, 5m or 1h)"
	}
	if strings.Contains(msg, "unknown shorthand flag: 'n'") || strings.Contains(msg, "unknown flag: --namespace") {
		msg += "\n-n/--namespace is not kubectl's here: each command names the namespaces it uses (e.g. --release-namespace, or profile poddefault NAMESPACE...)"
	} else if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		if s := core.Closest(name, flagNames(cmd)); s != "" {
			msg += "\n\nDid you mean this?\n\t--" + s
		}
	}
	return core.UsageErrorf("%s\nSee '%s --help' for usage.", msg, cmd.CommandPath())
}

// flagNames are the flags cmd takes (its own and inherited), hidden and deprecated ones aside.
func flagNames(cmd *cobra.Command) []string {
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden && f.Deprecated == "" {
			names = append(names, f.Name)
		}
	}
	cmd.Flags().VisitAll(add)
	cmd.InheritedFlags().VisitAll(add)
	return names
}
