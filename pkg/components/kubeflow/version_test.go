package kubeflow

import (
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

func TestChooseAndCheckVersion(t *testing.T) {
	v121 := versions.Server{Major: 1, Minor: 21, Git: "v1.21.14"}
	v122 := versions.Server{Major: 1, Minor: 22, Git: "v1.22.0"}
	v137 := versions.Server{Major: 1, Minor: 37, Git: "v1.37.2"}
	for s, want := range map[versions.Server]string{v121: "v1.5.0", v122: "v1.10.2", v137: "v1.10.2"} {
		p, err := ChooseVersion(s, "")
		if err != nil || p.Version != want || p.Explicit || !strings.Contains(p.Reason, s.Git) {
			t.Errorf("%s: got %+v, %v; want %s with a reason", s, p, err, want)
		}
		if err := CheckVersion(s, want); err != nil {
			t.Errorf("%s: %s must pass: %v", s, want, err)
		}
	}
	if p, err := ChooseVersion(v137, "1.10.2"); err != nil || p.Version != "v1.10.2" || !p.Explicit {
		t.Errorf("explicit: %+v %v", p, err)
	}
	for _, tc := range []struct {
		s             versions.Server
		version, want string
	}{
		{v137, "v1.5.0", "the version that installs here: v1.10.2"},
		{v121, "v1.10.2", "the version that installs here: v1.5.0"},
		{v121, "v9.9.9", "unknown Kubeflow version"},
	} {
		if err := CheckVersion(tc.s, tc.version); !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s on %s: want a usage error with %q, got %v", tc.version, tc.s, tc.want, err)
		}
	}
}
