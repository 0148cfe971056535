package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// kubeflowDefaultOnBed is the Kubeflow release each bed's minor gets when no version is given, as
// the README's matrix states it (written out here, not read from the matrix the command prints).
var kubeflowDefaultOnBed = map[string]string{
	testbed.V121: "v1.5.0", testbed.V129: "v1.9.1", testbed.V132: "v1.10.2", testbed.V133: "v1.10.2", testbed.V137: "26.03",
}

// checkReleasesConnected runs `releases -o json` and `releases` (table) against the bed: the
// report names the server's version and minor as the bed runs them, its distribution (wantDistro:
// "RKE" on the full beds, whose nodes carry RKE's annotations; "" on apiserver-only beds, which
// have no nodes), and the Kubeflow default the README states for that minor; every section has a
// default, and the table says the same in its header.
func checkReleasesConnected(t *testing.T, c *testbed.Cluster, gitVersion, wantDistro string) {
	t.Helper()
	r := runPlugin(t, c, "releases", "-o", "json")
	if r.code != 0 {
		t.Fatalf("releases -o json on %s: exit %d\n%s", gitVersion, r.code, r.stderr)
	}
	var rep versions.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("releases -o json is not JSON: %v\n%s", err, r.stdout)
	}
	minor := "1." + strings.Split(gitVersion, ".")[1]
	if rep.Kubernetes != minor || rep.Server != gitVersion || rep.Distribution != wantDistro {
		t.Errorf("releases on %s: kubernetes %q server %q distribution %q, want %q %q %q",
			gitVersion, rep.Kubernetes, rep.Server, rep.Distribution, minor, gitVersion, wantDistro)
	}
	sections := map[string]string{}
	for _, s := range rep.Sections {
		sections[s.Section] = s.Default
		if s.Default == "" {
			t.Errorf("releases on %s: section %s has no default: %s", gitVersion, s.Section, s.Reason)
		}
	}
	if got, want := sections["kubeflow"], kubeflowDefaultOnBed[gitVersion]; got != want {
		t.Errorf("releases on %s: Kubeflow default %q, want %q", gitVersion, got, want)
	}
	for _, sec := range []string{"storage", "lb", "kubeflow", "gpu"} {
		if _, ok := sections[sec]; !ok {
			t.Errorf("releases on %s: no %s section in %v", gitVersion, sec, sections)
		}
	}
	table := runPlugin(t, c, "releases")
	if table.code != 0 || !strings.Contains(table.stdout, gitVersion) ||
		!strings.Contains(table.stdout, "kubeflow  "+kubeflowDefaultOnBed[gitVersion]) {
		t.Errorf("releases (table) on %s: exit %d, want the server version and the Kubeflow default:\n%s%s",
			gitVersion, table.code, table.stdout, table.stderr)
	}
	if wantDistro != "" && !strings.Contains(table.stdout, wantDistro) {
		t.Errorf("releases (table) on %s does not name the distribution %s:\n%s", gitVersion, wantDistro, table.stdout)
	}
}
