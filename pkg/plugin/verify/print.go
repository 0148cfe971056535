package verify

import (
	"fmt"
	"io"
	"strings"

	"k8s.io/cli-runtime/pkg/printers"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Report is what `verify -o json|yaml` prints.
type Report struct {
	// Checks is how many checks ran; one check can give several results (e.g. one per node).
	Checks  int             `json:"checks"`
	Results []checks.Result `json:"results"`
	Summary checks.Summary  `json:"summary"`
}

func (o *Options) print(rs []checks.Result) error {
	switch o.Output {
	case output.Table:
		return printTable(o.streams.Out, rs, len(o.selected))
	case output.JUnit:
		return output.PrintJUnit(o.streams.Out, toJUnit(rs, o.Strict))
	default:
		if rs == nil {
			rs = []checks.Result{}
		}
		return output.Print(o.streams.Out, o.Output, Report{Checks: len(o.selected), Results: rs, Summary: checks.Summarize(rs)})
	}
}

// printTable prints kubectl-style columns, then the full message and fix of every finding that
// is not OK, then a summary line: how many checks ran and, when they gave more results than
// that, how many results, then the results per severity.
func printTable(out io.Writer, rs []checks.Result, ran int) error {
	w := printers.GetNewTabWriter(out)
	fmt.Fprintln(w, "STATUS\tID\tSECTION\tCHECK\tMESSAGE")
	for _, r := range rs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(r.Severity.String()), r.ID, r.Section, r.Title, firstLine(r.Message))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Severity == checks.OK || (r.Fix == "" && r.Message == firstLine(r.Message)) {
			continue
		}
		fmt.Fprintf(out, "\n%s %s (%s): %s\n", r.ID, r.Title, r.Severity, r.Message)
		if r.Fix != "" {
			fmt.Fprintf(out, "  Fix: %s\n", strings.ReplaceAll(r.Fix, "\n", "\n  "))
		}
	}
	s := checks.Summarize(rs)
	counted := output.Count(ran, "check")
	if s.Total != ran {
		counted += ", " + output.Count(s.Total, "result")
	}
	_, err := fmt.Fprintf(out, "\n%s: %d ok, %d info, %s, %s\n", counted, s.OK, s.Info, output.Count(s.Warn, "warning"), output.Count(s.Error, "error"))
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// toJUnit makes one suite per section and one case per result. Errors are failures; warnings
// are failures only with --strict (as the exit code), otherwise they go to system-out.
func toJUnit(rs []checks.Result, strict bool) *output.JUnitSuites {
	report := &output.JUnitSuites{Name: "kubectl flexigrobots verify"}
	index := map[string]int{}
	for _, r := range rs {
		i, ok := index[r.Section]
		if !ok {
			i = len(report.Suites)
			index[r.Section] = i
			report.Suites = append(report.Suites, output.JUnitSuite{Name: r.Section})
		}
		c := output.JUnitCase{Name: r.ID + " " + r.Title, Classname: "flexigrobots." + r.Section}
		text := r.Message
		if r.Fix != "" {
			text += "\nFix: " + r.Fix
		}
		if r.Severity == checks.Error || (strict && r.Severity == checks.Warn) {
			c.Failure = &output.JUnitFailure{Message: firstLine(r.Message), Type: r.Severity.String(), Text: text}
		} else {
			c.SystemOut = strings.ToUpper(r.Severity.String()) + ": " + text
		}
		report.Suites[i].Add(c)
	}
	return report
}
