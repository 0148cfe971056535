package kubeflow

import (
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// TestEveryMatrixReleaseHasAProfile: the version matrix and the profiles name the same releases.
func TestEveryMatrixReleaseHasAProfile(t *testing.T) {
	matrix := versions.Kubeflow.Versions()
	for _, v := range matrix {
		if p, err := ProfileFor(v); err != nil || p.Version != v {
			t.Errorf("matrix release %s: profile %q, %v", v, p.Version, err)
		}
	}
	if got := Versions(); len(got) != len(matrix) {
		t.Errorf("profiles %v, matrix %v", got, matrix)
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		minor         int
		version, want string
	}{
		{37, "v1.5.0", "the release that installs here: {version} 26.03"},
		{21, "v1.10.2", "the release that installs here: {version} v1.5.0"},
		{21, "v9.9.9", "unknown Kubeflow version"},
		{24, "v1.9.1", "upgrade the cluster to Kubernetes 1.26+ for v1.9.1"},
	} {
		s := versions.Server{Major: 1, Minor: tc.minor}
		if err := CheckVersion(s, tc.version); !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on %s: want a usage error with %q, got %v", tc.version, s, tc.want, err)
		}
	}
	if err := CheckVersion(versions.Server{Major: 1, Minor: 37}, "1.11.0"); err != nil {
		t.Errorf("v1.11.0 installs on 1.37 (with a warning): %v", err)
	}
}
