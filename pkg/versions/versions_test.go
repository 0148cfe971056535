package versions

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/version"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

func server(minor int) Server { return Server{Major: 1, Minor: minor} }

// TestDefaults pins the default per minor to the matrix's rule (facts/versions-matrix.md §5):
// the newest stated release that installs, else the newest that installs (a guess, warned), else
// none (exit 2).
func TestDefaults(t *testing.T) {
	for _, tc := range []struct {
		c     Component
		minor int
		want  string
		guess bool
	}{
		{Kubeflow, 21, "v1.5.0", false},
		{Kubeflow, 22, "", false},
		{Kubeflow, 25, "", false},
		{Kubeflow, 26, "v1.9.1", true},
		{Kubeflow, 29, "v1.9.1", false},
		{Kubeflow, 31, "v1.9.1", false},
		{Kubeflow, 32, "v1.10.2", false},
		{Kubeflow, 33, "v1.10.2", false},
		{Kubeflow, 34, "26.03", false},
		{Kubeflow, 35, "26.03", false},
		{Kubeflow, 37, "26.03", true},
		{GPUOperator, 21, "v23.6.2", false},
		{GPUOperator, 24, "v23.6.2", false}, // v24.9.2 states 1.24 but its CEL rules need 1.25
		{GPUOperator, 25, "v24.9.2", false},
		{GPUOperator, 29, "v25.3.4", false},
		{GPUOperator, 31, "v25.10.1", false},
		{GPUOperator, 32, "v26.3.3", false},
		{GPUOperator, 36, "v26.7.0", false},
		{GPUOperator, 37, "v26.7.0", true},
		{MetalLB, 21, "0.14.3", false},
		{MetalLB, 24, "0.14.3", false},
		{MetalLB, 25, "0.16.1", false},
		{MetalLB, 37, "0.16.1", false},
		{NFSProvisioner, 21, "4.0.18", false},
		{NFSProvisioner, 37, "4.0.18", false},
	} {
		p, err := tc.c.Pick(server(tc.minor), "")
		if tc.want == "" {
			if !core.IsUsageError(err) || !strings.Contains(err.Error(), "upgrade the cluster to Kubernetes 1.26+ for v1.9.1") || !strings.Contains(err.Error(), "v1.5.0 installs on Kubernetes 1.18-1.21") {
				t.Errorf("%s on 1.%d: want a usage error naming the nearest releases, got %+v, %v", tc.c.Section, tc.minor, p, err)
			}
			continue
		}
		if err != nil || p.Version != tc.want || p.Reason == "" {
			t.Errorf("%s on 1.%d: got %+v, %v; want %s", tc.c.Section, tc.minor, p, err, tc.want)
			continue
		}
		warned := len(p.Warnings) > 0 && strings.Contains(p.Warnings[0], "best guess")
		if warned != tc.guess {
			t.Errorf("%s on 1.%d: guess warning %v, want %v (%q)", tc.c.Section, tc.minor, warned, tc.guess, p.Warnings)
		}
	}
}

// TestGivenVersions: a release outside its bounds is a usage error naming what installs; one
// outside its stated range but inside its bounds is a warning; an unknown chart version passes
// with a note, an unknown Kubeflow version is refused.
func TestGivenVersions(t *testing.T) {
	for _, tc := range []struct {
		c       Component
		minor   int
		v       string
		errWant string
		warn    string
	}{
		{Kubeflow, 22, "v1.5.0", "removed in Kubernetes 1.22", ""},
		{Kubeflow, 27, "v1.10.2", "native sidecar", ""},
		{Kubeflow, 24, "v1.10.2", "upgrade the cluster to Kubernetes 1.26+", ""},
		{Kubeflow, 21, "v1.10.2", "the release that installs here: --version v1.5.0", ""},
		{Kubeflow, 32, "26.03", "Knative Serving 1.21", ""},
		{Kubeflow, 30, "v1.10.2", "", "not stated for Kubernetes 1.30"},
		{Kubeflow, 37, "1.11.0", "", "not stated for Kubernetes 1.37"},
		{Kubeflow, 37, "v1.7.0", "unknown Kubeflow version", ""},
		{MetalLB, 21, "0.15.3", "CEL validation rules", ""},
		{MetalLB, 36, "0.15.3", "", "BGPPeer objects are refused"},
		{MetalLB, 21, "0.13.12", "", "not in the plugin's version matrix"},
		{GPUOperator, 21, "v26.7.0", "--chart-version v23.6.2", ""},
		{GPUOperator, 37, "v23.6.2", "", "not stated for Kubernetes 1.37"},
	} {
		p, err := tc.c.Pick(server(tc.minor), tc.v)
		if tc.errWant != "" {
			if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.errWant) {
				t.Errorf("%s %s on 1.%d: want a usage error with %q, got %v", tc.c.Section, tc.v, tc.minor, tc.errWant, err)
			}
			continue
		}
		if err != nil || !p.Explicit || !strings.Contains(strings.Join(p.Warnings, "\n"), tc.warn) {
			t.Errorf("%s %s on 1.%d: got %+v, %v; want warning %q", tc.c.Section, tc.v, tc.minor, p, err, tc.warn)
		}
	}
}

func TestResolveLeavesAChartPathAlone(t *testing.T) {
	chart := core.ChartSource{Chart: "./metallb"}
	if err := MetalLB.Resolve(server(21), &chart, t.Logf); err != nil || chart.Version != "" {
		t.Fatalf("got %+v, %v", chart, err)
	}
	if err := MetalLB.CheckGiven("chart.version", server(21), "0.16.1"); !core.IsUsageError(err) || !strings.Contains(err.Error(), "{chart.version}") {
		t.Fatalf("want a usage error naming the field, got %v", err)
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
		{version.Info{Major: "1", Minor: "", GitVersion: "v1.34.10+rke2r1"}, 34, false},
		{version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.1+k3s1"}, 37, false},
		{version.Info{GitVersion: "v1.37.2"}, 37, false},
		{version.Info{Major: "1", Minor: "30", GitVersion: "devel"}, 30, false},
		{version.Info{GitVersion: "devel"}, 0, true},
	} {
		s, err := FromInfo(&tc.info)
		if (err != nil) != tc.bad || !tc.bad && (s.Major != 1 || s.Minor != tc.minor) {
			t.Errorf("%+v: got %+v, %v", tc.info, s, err)
		}
	}
}
