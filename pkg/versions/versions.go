// Package versions picks the upstream versions that fit the server's Kubernetes version: what a
// section installs when the user gives no version, and whether a version the user gave can work
// there at all (a usage error naming the versions that would, before any change).
package versions

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Server is the Kubernetes version of the API server.
type Server struct {
	Major, Minor int
	// Git is the full version, e.g. v1.21.14.
	Git string
}

// Read asks the server for its version.
func Read(dc discovery.ServerVersionInterface) (Server, error) {
	info, err := dc.ServerVersion()
	if err != nil {
		return Server{}, fmt.Errorf("read the server's Kubernetes version: %w", err)
	}
	return FromInfo(info)
}

// FromInfo parses the server's version info (minor versions such as "21+" included).
func FromInfo(info *version.Info) (Server, error) {
	s := Server{Git: info.GitVersion}
	major, err1 := strconv.Atoi(strings.TrimRight(info.Major, "+"))
	minor, err2 := strconv.Atoi(strings.TrimRight(info.Minor, "+"))
	if err1 != nil || err2 != nil {
		v, err := semver.NewVersion(info.GitVersion)
		if err != nil {
			return s, fmt.Errorf("the server reports Kubernetes version %q (major %q, minor %q), which is not a version", info.GitVersion, info.Major, info.Minor)
		}
		return Server{Major: int(v.Major()), Minor: int(v.Minor()), Git: info.GitVersion}, nil
	}
	s.Major, s.Minor = major, minor
	return s, nil
}

// AtLeast tells whether the server is Kubernetes 1.minor or newer.
func (s Server) AtLeast(minor int) bool { return s.Major > 1 || s.Major == 1 && s.Minor >= minor }

// String is "Kubernetes v1.21.14".
func (s Server) String() string {
	if s.Git == "" {
		return fmt.Sprintf("Kubernetes %d.%d", s.Major, s.Minor)
	}
	return "Kubernetes " + s.Git
}

// Pick is the version a section uses and why.
type Pick struct {
	Version string
	// Reason says why, for stderr: "Kubernetes v1.37.2 serves CEL validation rules (>= 1.25)".
	Reason string
	// Explicit is set when the user gave the version.
	Explicit bool
}

// Message is the stderr line of the pick, e.g. "lb: MetalLB chart 0.14.3 (default for ...)".
func (p Pick) Message(section, what string) string {
	if p.Explicit {
		return fmt.Sprintf("%s: %s %s (given)", section, what, p.Version)
	}
	return fmt.Sprintf("%s: %s %s picked: %s", section, what, p.Version, p.Reason)
}

// CELMinor is the first Kubernetes minor version that serves CRD validation rules
// (x-kubernetes-validations, beta and on by default from 1.25). An older server refuses such
// CRDs ("field not declared in schema"); it does not ignore them.
const CELMinor = 25

// CELRule is the rule for a chart whose CRDs carry CEL validation rules from one release on.
type CELRule struct {
	// What names the chart in messages, e.g. "MetalLB chart".
	What string
	// Flag is the flag (or file field) that gives the version, e.g. "--chart-version".
	Flag string
	// Current is the default where CEL rules are served.
	Current string
	// LastWithout is the last release whose CRDs have no CEL rules (the default below 1.25).
	LastWithout string
	// FirstWith is the first release whose CRDs have CEL rules.
	FirstWith string
}

// Pick returns explicit when it can work on s (a usage error naming the versions that would when
// it cannot), or the default that fits s when explicit is empty. A version that is not a plain
// semantic version (a range) is passed on as given.
func (r CELRule) Pick(s Server, explicit string) (Pick, error) {
	cel := s.AtLeast(CELMinor)
	if explicit == "" {
		if cel {
			return Pick{Version: r.Current, Reason: fmt.Sprintf("%s serves the CEL validation rules of its CRDs (Kubernetes >= 1.%d); give %s to choose another", s, CELMinor, r.Flag)}, nil
		}
		return Pick{Version: r.LastWithout, Reason: fmt.Sprintf("%s is older than 1.%d, which newer charts' CRDs need for their CEL validation rules (x-kubernetes-validations, from %s on); %s is the last release without them", s, CELMinor, r.FirstWith, r.LastWithout)}, nil
	}
	p := Pick{Version: explicit, Explicit: true}
	if cel || !r.NeedsCEL(explicit) {
		return p, nil
	}
	return p, core.UsageErrorf("%s %s cannot be installed on %s: its CRDs use CEL validation rules (x-kubernetes-validations), which need Kubernetes >= 1.%d; versions that install here: %s or older (%s is the first with CEL rules), e.g. %s %s, or leave the version out to get it",
		r.What, explicit, s, CELMinor, r.LastWithout, r.FirstWith, r.Flag, r.LastWithout)
}

// NeedsCEL tells whether version is FirstWith or newer (false when it is not a semantic version).
func (r CELRule) NeedsCEL(v string) bool {
	got, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	if err != nil {
		return false
	}
	first := semver.MustParse(strings.TrimPrefix(r.FirstWith, "v"))
	return !got.LessThan(first)
}

// Resolve fills chart.Version, when empty, with the release of the rule that fits s and says
// which and why through logf; a version given that cannot install on s is a usage error naming
// r.Flag (exit 2). A chart given by path or URL without a version is left alone.
func (r CELRule) Resolve(section string, s Server, chart *core.ChartSource, logf func(string, ...any)) error {
	if chart.Chart != "" && chart.Version == "" {
		return nil
	}
	p, err := r.Pick(s, chart.Version)
	if err != nil {
		return core.Wrapf(err, "%s", section)
	}
	chart.Version = p.Version
	logf("%s", p.Message(section, r.What))
	return nil
}

// CheckGiven is a Prepare's check: a version given that cannot install on s is a usage error
// (exit 2) naming {field} (each entry point renders it: the command's flag, the file's field)
// and the versions that would install. An empty version passes: Resolve picks one.
func (r CELRule) CheckGiven(section, field string, s Server, version string) error {
	if version == "" {
		return nil
	}
	r.Flag = "{" + field + "}"
	if _, err := r.Pick(s, version); err != nil {
		return core.Wrapf(err, "%s: {%s}", section, field)
	}
	return nil
}
