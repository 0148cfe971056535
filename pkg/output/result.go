package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Actions reported per object, kubectl's verbs.
const (
	Created    = "created"
	Configured = "configured"
	Unchanged  = "unchanged"
	Deleted    = "deleted"
	// Installed and Upgraded are for helm releases.
	Installed = "installed"
	Upgraded  = "upgraded"
	// Kept is for what an uninstall left in place on purpose (data, a namespace holding it):
	// not a change.
	Kept = "kept"
)

// IsChange tells whether an action changed something (unchanged and kept did not).
func IsChange(action string) bool { return action != Unchanged && action != Kept }

// Result is what a command did to one object or release.
type Result struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    string `json:"action"`
	// DryRun is set when nothing was persisted ("server" or "client").
	DryRun core.DryRunStrategy `json:"dryRun,omitempty"`
	// Detail is an optional short note (e.g. "chart 4.0.18", "demoted from default").
	Detail string `json:"detail,omitempty"`
}

// Report is a command's result: the objects it touched and anything else worth saying.
type Report struct {
	Results []Result `json:"results"`
	// Notes are human sentences (what to do next, what was demoted ...).
	Notes []string `json:"notes,omitempty"`
}

// Add appends results.
func (r *Report) Add(rs ...Result) { r.Results = append(r.Results, rs...) }

// Changed tells whether anything was created, configured, installed, upgraded or deleted.
func (r *Report) Changed() bool {
	for _, x := range r.Results {
		if IsChange(x.Action) {
			return true
		}
	}
	return false
}

// PrintReportAfter prints the report of a run that ended with err (what was done before an error
// too) and returns err, or the printing's error when the run had none.
func PrintReportAfter(w, notes io.Writer, format string, r *Report, err error) error {
	if perr := PrintReport(w, notes, format, r); perr != nil && err == nil {
		return perr
	}
	return err
}

// PrintReport prints r: kubectl-style lines `kind/name action` on w for table, with the notes on
// notes (stderr: they are for the person, not the result), or the whole report, notes included,
// as json/yaml on w.
func PrintReport(w, notes io.Writer, format string, r *Report) error {
	if format != Table {
		if r.Results == nil {
			r.Results = []Result{}
		}
		return Print(w, format, r)
	}
	for _, x := range r.Results {
		fmt.Fprintln(w, x.Line())
	}
	for _, n := range r.Notes {
		fmt.Fprintln(notes, n)
	}
	return nil
}

// Line is the kubectl-style line: `kind.group/name action (dry run)`; namespaced objects are
// prefixed with their namespace as `namespace/kind/name` is not kubectl's form, so it is
// shown after the name.
func (x Result) Line() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(x.Kind))
	b.WriteString("/")
	b.WriteString(x.Name)
	b.WriteString(" ")
	b.WriteString(x.Action)
	if x.DryRun != "" {
		fmt.Fprintf(&b, " (%s dry run)", x.DryRun)
	}
	if x.Namespace != "" || x.Detail != "" {
		var extra []string
		if x.Namespace != "" {
			extra = append(extra, "namespace "+x.Namespace)
		}
		if x.Detail != "" {
			extra = append(extra, x.Detail)
		}
		fmt.Fprintf(&b, " [%s]", strings.Join(extra, ", "))
	}
	return b.String()
}
