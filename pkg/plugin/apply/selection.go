package apply

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
)

// selection is the platform file and the sections of it that apply, delete and diff run.
type selection struct {
	File       string
	Only, Skip []string

	platform *platform.Platform
	sections []platform.Block
}

// addFlags registers -f, --only and --skip (with their completions); verb starts --only's help
// ("Run", "Delete", "Diff"), and skip is --skip's.
func (s *selection) addFlags(cmd *cobra.Command, fileHelp, verb, skip string) {
	cmd.Flags().StringVarP(&s.File, "filename", "f", "", fileHelp)
	cmd.Flags().StringSliceVar(&s.Only, "only", nil, verb+" only these sections (comma-separated): "+strings.Join(platform.Order(), ", "))
	cmd.Flags().StringSliceVar(&s.Skip, "skip", nil, skip)
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml")
	for _, fl := range []string{"only", "skip"} {
		_ = cmd.RegisterFlagCompletionFunc(fl, cobra.FixedCompletions(platform.Order(), cobra.ShellCompDirectiveNoFileComp))
	}
}

// load reads and validates the file and selects its sections (exit 2 on any problem); missing is
// the error's hint when -f is not given.
func (s *selection) load(missing string) error {
	if s.File == "" {
		return core.UsageErrorf("-f is required: %s", missing)
	}
	pl, err := platform.Load(s.File)
	if err != nil {
		return err
	}
	s.platform = pl
	s.sections, err = platform.Select(pl, s.Only, s.Skip)
	return err
}
