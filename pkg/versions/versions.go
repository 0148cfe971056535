// Package versions picks the upstream versions that fit the server's Kubernetes version: what a
// section installs when the user gives no version, and whether a version the user gave can work
// there at all (a usage error naming the versions that would, before any change).
package versions

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
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

// gitVersion matches the start of a server's gitVersion; distributions add suffixes such as
// +rke2r1, +k3s1, -rancher1, -eks-... or -gke.N, which do not matter here.
var gitVersion = regexp.MustCompile(`^v?(\d+)\.(\d+)\.\d+`)

// FromInfo parses the server's version info: gitVersion first (distributions leave minor
// empty or write "21+"), then major and minor.
func FromInfo(info *version.Info) (Server, error) {
	s := Server{Git: info.GitVersion}
	if m := gitVersion.FindStringSubmatch(info.GitVersion); m != nil {
		s.Major, _ = strconv.Atoi(m[1])
		s.Minor, _ = strconv.Atoi(m[2])
		return s, nil
	}
	major, err1 := strconv.Atoi(strings.TrimRight(info.Major, "+"))
	minor, err2 := strconv.Atoi(strings.TrimRight(info.Minor, "+"))
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("the server reports Kubernetes version %q (major %q, minor %q), which is not a version", info.GitVersion, info.Major, info.Minor)
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
	// Reason says why, for stderr: "the newest release upstream states for Kubernetes 1.33 ...".
	Reason string
	// Explicit is set when the user gave the version.
	Explicit bool
	// Warnings are printed and the install goes on: the minor is not one upstream states for the
	// release, or a known problem of the release there.
	Warnings []string
}

// Log writes the pick's message and its warnings through logf.
func (p Pick) Log(section, what string, logf func(string, ...any)) {
	logf("%s", p.Message(section, what))
	for _, w := range p.Warnings {
		logf("warning: %s: %s", section, w)
	}
}

// Message is the stderr line of the pick, e.g. "lb: MetalLB chart 0.14.3 (default for ...)".
func (p Pick) Message(section, what string) string {
	if p.Explicit {
		return fmt.Sprintf("%s: %s %s (given)", section, what, p.Version)
	}
	return fmt.Sprintf("%s: %s %s picked: %s", section, what, p.Version, p.Reason)
}

// CELMinor is the first Kubernetes minor version that serves CRD validation rules
// (x-kubernetes-validations, beta and on by default from 1.25). Kubernetes 1.21 and 1.22 refuse
// such CRDs ("field not declared in schema"); 1.23 and 1.24 drop the rules unenforced.
const CELMinor = 25
