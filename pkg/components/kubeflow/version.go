package kubeflow

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// RunbookVersion is the runbook's Kubeflow version (Kubernetes <= 1.21).
const RunbookVersion = "v1.5.0"

// ChooseVersion returns the Kubeflow version for the server: explicit when it can install there
// (warnings when upstream does not state the minor), else the default of the version matrix
// (versions.Kubeflow), with the reason for stderr. A version that cannot install on s, or a
// minor no release installs on, is a usage error naming what would.
func ChooseVersion(s versions.Server, explicit string) (versions.Pick, error) {
	return versions.Kubeflow.Pick(s, explicit)
}

// CheckVersion is the quick check, before any change, that version can install on s: a usage
// error (exit 2) naming {version} (each entry point renders it: --version, the file's field) and
// the version that would. (The preflight lists the API kinds themselves.)
func CheckVersion(s versions.Server, version string) error {
	if _, err := ProfileFor(version); err != nil {
		return err
	}
	return versions.Kubeflow.CheckGiven("version", s, version)
}
