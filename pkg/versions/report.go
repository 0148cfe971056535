package versions

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is what `kubectl flexigrobots releases` prints: per section, the releases the plugin
// offers and what each means on one Kubernetes minor.
type Report struct {
	// Kubernetes is the minor ("1.37"); Server the server's gitVersion when read from a cluster.
	Kubernetes   string          `json:"kubernetes"`
	Server       string          `json:"server,omitempty"`
	Distribution string          `json:"distribution,omitempty"`
	Sections     []SectionReport `json:"sections"`
}

// SectionReport is one component on the minor.
type SectionReport struct {
	Section   string `json:"section"`
	Component string `json:"component"`
	// Default is the release installed when none is given ("" when none installs here).
	Default  string          `json:"default"`
	Reason   string          `json:"reason"`
	Warnings []string        `json:"warnings,omitempty"`
	Releases []ReleaseReport `json:"releases"`
}

// ReleaseReport is one release on the minor.
type ReleaseReport struct {
	Version string `json:"version"`
	// Stated is the range upstream states or tested ("1.29-1.31"), Source where it says so.
	Stated string `json:"stated"`
	Source string `json:"source"`
	// Installs tells whether its hard bounds allow the minor; Why names the bound that does not.
	Installs bool   `json:"installs"`
	Why      string `json:"why,omitempty"`
	// StatedHere: upstream states or tested the release on this minor.
	StatedHere bool `json:"statedHere"`
	Default    bool `json:"default"`
}

// NewReport evaluates every component on s.
func NewReport(s Server) Report {
	rep := Report{Kubernetes: fmt.Sprintf("%d.%d", s.Major, s.Minor), Server: s.Git}
	for _, c := range Components {
		sr := SectionReport{Section: c.Section, Component: c.What}
		if p, err := c.Pick(s, ""); err != nil {
			sr.Reason = err.Error()
		} else {
			sr.Default, sr.Reason, sr.Warnings = p.Version, p.Reason, p.Warnings
		}
		for _, r := range c.Releases {
			rr := ReleaseReport{Version: r.Version, Stated: r.Stated.String(), Source: r.Source, Default: r.Version == sr.Default}
			rr.StatedHere = r.Stated.Stated() && r.Stated.Holds(s.Minor)
			if b := r.Installs(s.Minor); b != nil {
				rr.Why = fmt.Sprintf("needs Kubernetes %s: %s", b.Range, b.Why)
			} else {
				rr.Installs = true
			}
			sr.Releases = append(sr.Releases, rr)
		}
		rep.Sections = append(rep.Sections, sr)
	}
	return rep
}

// WriteTable prints the report for people: the defaults, then every release.
func (r Report) WriteTable(w io.Writer) error {
	head := "Kubernetes " + r.Kubernetes
	if r.Server != "" {
		head += " (server " + r.Server
		if r.Distribution != "" {
			head += ", " + r.Distribution
		}
		head += ")"
	}
	fmt.Fprintf(w, "%s\n\n", head)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECTION\tDEFAULT\tWHY")
	for _, s := range r.Sections {
		d := s.Default
		if d == "" {
			d = "none"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Section, d, s.Reason)
		for _, warn := range s.Warnings {
			fmt.Fprintf(tw, "\t\twarning: %s\n", warn)
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "SECTION\tRELEASE\tUPSTREAM STATES\tHERE")
	for _, s := range r.Sections {
		for _, rr := range s.Releases {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Section, rr.Version, rr.Stated, rr.here())
		}
	}
	return tw.Flush()
}

// here is the HERE column: "default", "stated", "installs (not stated)" or "no: ...".
func (rr ReleaseReport) here() string {
	var parts []string
	switch {
	case !rr.Installs:
		return "no: " + rr.Why
	case rr.StatedHere:
		parts = append(parts, "stated")
	default:
		parts = append(parts, "installs, not stated")
	}
	if rr.Default {
		parts = append([]string{"default"}, parts...)
	}
	return strings.Join(parts, ", ")
}
