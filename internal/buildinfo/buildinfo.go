// Package buildinfo holds the plugin's version and commit, set at link time by the Makefile
// (-X github.com/flexigrobots/kubectl-flexigrobots/internal/buildinfo.Version=...).
package buildinfo

import "runtime/debug"

// Version is the plugin release (vX.Y.Z), "dev" for local builds.
var Version = "dev"

// Commit is the git commit the binary was built from, when known.
var Commit = ""

// CommitOrVCS returns Commit, falling back to the VCS revision the Go toolchain recorded.
func CommitOrVCS() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}
