package platform

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// PrintSummary writes the summary: one kubectl-style line per object a section changed, then a
// table (SECTION RESULT CHANGED TIME DETAIL) on w with each section's notes on notes (stderr),
// or the whole summary, reports and notes included, as json|yaml on w.
func PrintSummary(w, notes io.Writer, format string, s *Summary) error {
	if format != output.Table {
		if s.Sections == nil {
			s.Sections = []Outcome{}
		}
		return output.Print(w, format, s)
	}
	// Every object a section changed, as kubectl prints it (the unchanged ones only in -o json|yaml).
	for _, o := range s.Sections {
		if o.Report == nil {
			continue
		}
		for _, x := range o.Report.Results {
			if output.IsChange(x.Action) {
				if _, err := fmt.Fprintf(w, "%s: %s\n", o.Section, x.Line()); err != nil {
					return err
				}
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tRESULT\tCHANGED\tTIME\tDETAIL")
	for _, o := range s.Sections {
		result := o.Result
		if s.DryRun != "" && o.Result == Changed {
			result = "would change (" + s.DryRun + " dry run)"
		}
		if s.DryRun != "" && o.Result == Deleted {
			result = "would delete (" + s.DryRun + " dry run)"
		}
		t := "-"
		if o.Duration > 0 {
			t = o.Duration.Round(100 * time.Millisecond).String()
		}
		changed := "-"
		if o.Result == Changed || o.Result == Deleted || o.Result == Unchanged || o.Result == Failed {
			changed = fmt.Sprintf("%d/%d", o.Changed, o.Total)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Section, result, changed, t, firstLine(o.Reason))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range s.Sections {
		if o.Report == nil {
			continue
		}
		for _, n := range o.Report.Notes {
			if _, err := fmt.Fprintf(notes, "%s: %s\n", o.Section, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " ..."
		}
	}
	if len(s) > 160 {
		cut := strings.LastIndex(s[:160], " ")
		if cut < 80 {
			cut = 160
		}
		return s[:cut] + " ..."
	}
	return s
}
