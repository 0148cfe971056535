package checks

import (
	"context"
	"fmt"
)

// Evaluate runs every check over s, in order, and returns their results with ID, Section and
// Title filled. A check that returns nothing yields one OK result; a check that panics yields an
// Error result and the others still run.
func Evaluate(s *Snapshot, cs []Check) []Result {
	var out []Result
	for _, c := range cs {
		rs := runOne(s, c)
		if s.ServerErr != nil && (len(c.Resources) > 0 || len(c.Probes) > 0) {
			// The API server did not answer: the check that reads the server alone (CLUSTER-001)
			// says so, once; every check that needs the cluster's objects is skipped, not failed
			// with the same cause again.
			rs = []Result{Note("skipped: the API server is not reachable (see CLUSTER-001)", "")}
		}
		for _, r := range rs {
			r.ID, r.Section, r.Title = c.ID, c.Section, c.Title
			if r.Severity == 0 {
				r.Severity = c.Severity
			}
			out = append(out, r)
		}
	}
	return out
}

func runOne(s *Snapshot, c Check) (rs []Result) {
	defer func() {
		if p := recover(); p != nil {
			rs = []Result{CannotEvaluate(fmt.Errorf("check panicked: %v", p), "report this as a bug of kubectl flexigrobots")}
		}
	}()
	rs = c.Run(s)
	if len(rs) == 0 {
		rs = []Result{Pass("no findings")}
	}
	return rs
}

// Run collects one snapshot for cs and evaluates them: what `verify` does, and what a section
// command calls to check its own post-conditions.
func Run(ctx context.Context, col *Collector, cs []Check) []Result {
	return Evaluate(col.Collect(ctx, cs), cs)
}

// Summary counts results per severity.
type Summary struct {
	Total int `json:"total"`
	OK    int `json:"ok"`
	Info  int `json:"info"`
	Warn  int `json:"warn"`
	Error int `json:"error"`
	// Worst is the worst severity found ("ok" when there are no results).
	Worst Severity `json:"worst"`
}

// Summarize counts rs.
func Summarize(rs []Result) Summary {
	s := Summary{Total: len(rs), Worst: OK}
	for _, r := range rs {
		switch r.Severity {
		case OK:
			s.OK++
		case Info:
			s.Info++
		case Warn:
			s.Warn++
		default:
			s.Error++
		}
		if r.Severity > s.Worst {
			s.Worst = r.Severity
		}
	}
	return s
}
