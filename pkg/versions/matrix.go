package versions

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Range is a span of Kubernetes 1.x minor versions, both ends included; 0 leaves an end open.
type Range struct{ From, To int }

// Holds tells whether minor is in the range.
func (r Range) Holds(minor int) bool {
	return (r.From == 0 || minor >= r.From) && (r.To == 0 || minor <= r.To)
}

// Stated tells whether the range says anything.
func (r Range) Stated() bool { return r.From != 0 || r.To != 0 }

// String is "1.29-1.31", "1.34+", "<= 1.21" or "any".
func (r Range) String() string {
	switch {
	case r.From != 0 && r.To != 0 && r.From == r.To:
		return fmt.Sprintf("1.%d", r.From)
	case r.From != 0 && r.To != 0:
		return fmt.Sprintf("1.%d-1.%d", r.From, r.To)
	case r.From != 0:
		return fmt.Sprintf("1.%d+", r.From)
	case r.To != 0:
		return fmt.Sprintf("<= 1.%d", r.To)
	}
	return "any"
}

// Bound is a hard limit of a release: outside Range its install fails (APIs it uses are not
// served, a controller it ships exits), so the plugin never picks it there and refuses it when
// given (exit 2).
type Bound struct {
	Range
	// Why says what fails, e.g. "its CRDs carry CEL validation rules (served from 1.25)".
	Why string
}

// Caveat is a known problem of a release on some minors that does not stop the install (a
// warning when the release is used there).
type Caveat struct {
	Range
	Note string
}

// Release is one upstream release and the Kubernetes minors it fits.
type Release struct {
	Version string
	// Stated is the range upstream states or tested the release on; Source says where.
	Stated Range
	Source string
	// Bounds are the hard limits (their intersection is where the release installs at all).
	Bounds []Bound
	// Caveats warn on some minors.
	Caveats []Caveat
}

// Installs returns the first bound that minor breaks (nil when the release installs there).
func (r Release) Installs(minor int) *Bound {
	for i := range r.Bounds {
		if !r.Bounds[i].Holds(minor) {
			return &r.Bounds[i]
		}
	}
	return nil
}

// Fits tells whether upstream states or tested the release on minor and it installs there.
func (r Release) Fits(minor int) bool {
	return r.Stated.Stated() && r.Stated.Holds(minor) && r.Installs(minor) == nil
}

// Component is one section's upstream project and its releases.
type Component struct {
	// Section is the section that installs it ("kubeflow").
	Section string
	// What names it in messages ("Kubeflow manifests", "MetalLB chart").
	What string
	// Flag is the command's flag giving the version ("--version"); the file names its field.
	Flag string
	// Releases, oldest first.
	Releases []Release
	// OnlyKnown refuses a version that is not in Releases (Kubeflow: every release needs a
	// profile); otherwise such a version is installed as given, its bounds left to the preflight.
	OnlyKnown bool
}

// Release returns the release named v (a leading "v" does not matter).
func (c Component) Release(v string) (Release, bool) {
	for _, r := range c.Releases {
		if strings.TrimPrefix(r.Version, "v") == strings.TrimPrefix(v, "v") {
			return r, true
		}
	}
	return Release{}, false
}

// Versions lists the releases' versions, oldest first.
func (c Component) Versions() []string {
	out := make([]string, len(c.Releases))
	for i, r := range c.Releases {
		out[i] = r.Version
	}
	return out
}

// Default is the release used on minor when none is given: the newest whose stated range holds
// minor and which installs there; else the newest that installs there, with a warning naming
// what upstream tested; ok is false when no release installs on minor.
func (c Component) Default(minor int) (r Release, stated, ok bool) {
	for i := len(c.Releases) - 1; i >= 0; i-- {
		if c.Releases[i].Fits(minor) {
			return c.Releases[i], true, true
		}
	}
	for i := len(c.Releases) - 1; i >= 0; i-- {
		if c.Releases[i].Installs(minor) == nil {
			return c.Releases[i], false, true
		}
	}
	return Release{}, false, false
}

// Pick returns the version to install on s: explicit when given and it can work there (warnings
// when upstream does not state that minor), or the default. A version that cannot install on s
// is a usage error (exit 2) naming the releases that would; so is a minor no release installs
// on, naming the nearest releases and the way forward.
func (c Component) Pick(s Server, explicit string) (Pick, error) {
	if explicit != "" {
		return c.pickGiven(s, explicit)
	}
	r, stated, ok := c.Default(s.Minor)
	if !ok {
		return Pick{}, core.UsageErrorf("no %s release installs on %s: %s", c.What, s, c.nearest(s.Minor))
	}
	p := Pick{Version: r.Version}
	if stated {
		p.Reason = fmt.Sprintf("the newest release upstream states for Kubernetes 1.%d (%s: %s)", s.Minor, r.Stated, r.Source)
	} else {
		p.Reason = fmt.Sprintf("the newest release that installs on Kubernetes 1.%d", s.Minor)
		p.Warnings = append(p.Warnings, fmt.Sprintf("no %s release states support for Kubernetes 1.%d; %s was tested on %s (%s): a best guess, give %s to choose", c.What, s.Minor, r.Version, r.Stated, r.Source, c.Flag))
	}
	p.Warnings = append(p.Warnings, r.caveats(s.Minor)...)
	return p, nil
}

func (c Component) pickGiven(s Server, v string) (Pick, error) {
	p := Pick{Version: v, Explicit: true}
	r, known := c.Release(v)
	if !known {
		if c.OnlyKnown {
			return p, core.UsageErrorf("unknown %s version %q: use %s with one of %s", c.What, v, c.Flag, strings.Join(c.Versions(), ", "))
		}
		if _, err := semver.NewVersion(v); err == nil {
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s %s is not in the plugin's version matrix (%s): the preflight checks its objects against the server, nothing more is known", c.What, v, strings.Join(c.Versions(), ", ")))
		}
		return p, nil
	}
	p.Version = r.Version
	if b := r.Installs(s.Minor); b != nil {
		return p, core.UsageErrorf("%s %s cannot be installed on %s: %s (it needs Kubernetes %s); %s",
			c.What, r.Version, s, b.Why, b.Range, c.instead(s.Minor))
	}
	if !r.Stated.Holds(s.Minor) || !r.Stated.Stated() {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s %s is not stated for Kubernetes 1.%d: upstream states %s (%s)", c.What, r.Version, s.Minor, r.Stated, r.Source))
	}
	p.Warnings = append(p.Warnings, r.caveats(s.Minor)...)
	return p, nil
}

// instead names what to do when the release given cannot install on minor.
func (c Component) instead(minor int) string {
	if r, _, ok := c.Default(minor); ok {
		return fmt.Sprintf("the release that installs here: %s %s (or leave the version out to get it)", c.Flag, r.Version)
	}
	return c.nearest(minor)
}

// nearest names, for a minor no release installs on, the closest releases below and above it.
func (c Component) nearest(minor int) string {
	var below, above []string
	for _, r := range c.Releases {
		span := r.installRange()
		switch {
		case span.To != 0 && span.To < minor:
			below = append(below, fmt.Sprintf("%s installs on Kubernetes %s", r.Version, span))
		case span.From > minor:
			above = append(above, fmt.Sprintf("upgrade the cluster to Kubernetes %s for %s", span, r.Version))
		}
	}
	var out []string
	if len(above) > 0 {
		out = append(out, above[0])
	}
	if len(below) > 0 {
		out = append(out, below[len(below)-1])
	}
	return strings.Join(out, "; ")
}

// installRange is the intersection of the release's bounds.
func (r Release) installRange() Range {
	var out Range
	for _, b := range r.Bounds {
		if b.From > out.From {
			out.From = b.From
		}
		if b.To != 0 && (out.To == 0 || b.To < out.To) {
			out.To = b.To
		}
	}
	return out
}

func (r Release) caveats(minor int) []string {
	var out []string
	for _, cv := range r.Caveats {
		if cv.Holds(minor) {
			out = append(out, fmt.Sprintf("%s on Kubernetes %s: %s", r.Version, cv.Range, cv.Note))
		}
	}
	return out
}

// Resolve fills chart.Version, when empty, with the release that fits s and says which and why
// (and any warning) through logf; a version given that cannot install on s is a usage error
// (exit 2). A chart given by path or URL without a version is left alone.
func (c Component) Resolve(s Server, chart *core.ChartSource, logf func(string, ...any)) error {
	if chart.Chart != "" && chart.Version == "" {
		return nil
	}
	p, err := c.Pick(s, chart.Version)
	if err != nil {
		return core.Wrapf(err, "%s", c.Section)
	}
	chart.Version = p.Version
	p.Log(c.Section, c.What, logf)
	return nil
}

// CheckGiven is a Prepare's check: a version given that cannot install on s is a usage error
// (exit 2) naming {field} (each entry point renders it: the command's flag, the file's field)
// and the versions that would install. An empty version passes: Resolve picks one.
func (c Component) CheckGiven(field string, s Server, version string) error {
	if version == "" {
		return nil
	}
	c.Flag = "{" + field + "}"
	if _, err := c.Pick(s, version); err != nil {
		return core.Wrapf(err, "%s: {%s}", c.Section, field)
	}
	return nil
}
