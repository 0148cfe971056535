package kubeflow

import (
	"fmt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Versions by Kubernetes version: v1.5.0 (the runbook's) uses APIs removed in Kubernetes 1.22
// (apiextensions.k8s.io/v1beta1 and others), v1.10.2 uses APIs 1.21 lacks.
const (
	RunbookVersion = "v1.5.0"
	CurrentVersion = "v1.10.2"
	// lastRunbookMinor is the last Kubernetes minor version v1.5.0 installs on.
	lastRunbookMinor = 21
)

// ChooseVersion returns the Kubeflow version for the server when explicit is empty: v1.5.0 on
// Kubernetes <= 1.21, v1.10.2 above, with the reason for stderr.
func ChooseVersion(s versions.Server, explicit string) (versions.Pick, error) {
	if explicit != "" {
		p, err := ProfileFor(explicit)
		return versions.Pick{Version: p.Version, Explicit: true}, err
	}
	if !s.AtLeast(lastRunbookMinor + 1) {
		return versions.Pick{Version: RunbookVersion, Reason: fmt.Sprintf("%s is 1.%d or older (the runbook's cluster), and %s needs APIs it lacks; give --version to choose", s, lastRunbookMinor, CurrentVersion)}, nil
	}
	return versions.Pick{Version: CurrentVersion, Reason: fmt.Sprintf("%s is newer than 1.%d, which removed APIs %s needs; give --version to choose", s, lastRunbookMinor, RunbookVersion)}, nil
}

// CheckVersion is the quick check, before any change, that version can install on s: a usage
// error (exit 2) naming the version that would. (The kubeflow command's preflight lists the
// API kinds themselves.)
func CheckVersion(s versions.Server, version string) error {
	p, err := ProfileFor(version)
	if err != nil {
		return err
	}
	old := !s.AtLeast(lastRunbookMinor + 1)
	switch {
	case p.Version == RunbookVersion && !old:
		return core.UsageErrorf("Kubeflow %s cannot be installed on %s: it needs Kubernetes <= 1.%d (APIs such as apiextensions.k8s.io/v1beta1 were removed in 1.22); the version that installs here: %s (or leave the version out)", p.Version, s, lastRunbookMinor, CurrentVersion)
	case p.Version != RunbookVersion && old:
		return core.UsageErrorf("Kubeflow %s cannot be installed on %s: it needs APIs Kubernetes 1.%d and older lack; the version that installs here: %s (or leave the version out)", p.Version, s, lastRunbookMinor, RunbookVersion)
	}
	return nil
}
