package versions

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/version"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

var metallb = CELRule{What: "MetalLB chart", Flag: "--chart-version", Current: "0.15.3", LastWithout: "0.14.3", FirstWith: "0.14.4"}

func TestCELRule(t *testing.T) {
	v121 := Server{Major: 1, Minor: 21, Git: "v1.21.14"}
	v125 := Server{Major: 1, Minor: 25, Git: "v1.25.0"}
	v137 := Server{Major: 1, Minor: 37, Git: "v1.37.2"}
	for _, tc := range []struct {
		s        Server
		explicit string
		want     string
		bad      bool
	}{
		{v121, "", "0.14.3", false},
		{v125, "", "0.15.3", false},
		{v137, "", "0.15.3", false},
		{v121, "0.14.3", "0.14.3", false},
		{v121, "0.13.12", "0.13.12", false},
		{v121, "0.14.4", "", true},
		{v121, "0.15.3", "", true},
		{v121, "v0.15.3", "", true},
		{v137, "0.14.3", "0.14.3", false},
		{v121, "~0.14", "~0.14", false},
	} {
		p, err := metallb.Pick(tc.s, tc.explicit)
		if tc.bad {
			if !core.IsUsageError(err) || !strings.Contains(err.Error(), "0.14.3 or older") {
				t.Errorf("%s %q: want a usage error naming 0.14.3, got %v", tc.s, tc.explicit, err)
			}
			continue
		}
		if err != nil || p.Version != tc.want || p.Explicit != (tc.explicit != "") || (!p.Explicit && p.Reason == "") {
			t.Errorf("%s %q: got %+v, %v; want %s", tc.s, tc.explicit, p, err, tc.want)
		}
	}
}

func TestFromInfo(t *testing.T) {
	for _, tc := range []struct {
		info  version.Info
		minor int
		bad   bool
	}{
		{version.Info{Major: "1", Minor: "21", GitVersion: "v1.21.14"}, 21, false},
		{version.Info{Major: "1", Minor: "21+", GitVersion: "v1.21.14-eks"}, 21, false},
		{version.Info{GitVersion: "v1.37.2"}, 37, false},
		{version.Info{GitVersion: "devel"}, 0, true},
	} {
		s, err := FromInfo(&tc.info)
		if (err != nil) != tc.bad || !tc.bad && (s.Major != 1 || s.Minor != tc.minor) {
			t.Errorf("%+v: got %+v, %v", tc.info, s, err)
		}
	}
}
