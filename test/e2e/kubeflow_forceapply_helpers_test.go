package e2e

import (
	"maps"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertForceApplySendsEverything proves --force-apply bypasses the apply record: on a converged
// cluster a plain re-run sends almost nothing, a forced one sends every object as a real
// server-side apply (counted in client-go's request log, -v=6), and both report every object
// unchanged and move no resourceVersion (Kubernetes 1.37 writes nothing on a no-op apply).
func assertForceApplySendsEverything(t *testing.T, c *testbed.Cluster, args []string, objs []*unstructured.Unstructured, state map[string]string) {
	t.Helper()
	applies := func(stderr string) int {
		n := 0
		for _, line := range strings.Split(stderr, "\n") {
			if strings.Contains(line, `verb="PATCH"`) && strings.Contains(line, "fieldManager=kubectl-flexigrobots") && !strings.Contains(line, "dryRun=All") {
				n++
			}
		}
		return n
	}
	run := append(append([]string{"kubeflow"}, args...), "--wait=false", "-o", "json", "-v=6")
	plain := runPlugin(t, c, run...)
	forced := runPlugin(t, c, append(run, "--force-apply")...)
	if plain.code != 0 || forced.code != 0 {
		t.Fatalf("re-runs: exit %d (plain), %d (--force-apply)\n%s", plain.code, forced.code, forced.stderr)
	}
	rep := kfReport(t, forced)
	for _, x := range rep.Results {
		if x.Action != output.Unchanged {
			t.Errorf("--force-apply on a converged cluster: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	p, f := applies(plain.stderr), applies(forced.stderr)
	if f < len(rep.Results) || p*10 > len(rep.Results) {
		t.Fatalf("applies sent: %d by a plain re-run, %d by --force-apply, for %d objects: want a few, then every one", p, f, len(rep.Results))
	}
	if again := liveState(t, c, objs); !maps.Equal(state, again) {
		t.Errorf("--force-apply moved resourceVersions on a converged cluster")
	}
}
