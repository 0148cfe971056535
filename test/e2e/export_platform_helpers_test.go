package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertPlatformExported checks `export --platform` on a bed where kubeflow installed release,
// after a run of lastRun (kubeflow's arguments whose files and manifests are still there: the
// bed's suites ran it with their own, gone with them; nil when the last run's are): it writes a
// platform file with a kubeflow block naming what that run set (release, the GitHub secret by
// its file, never its value), which `apply -f` of that block then finds unchanged; -o json says
// the same. The export changes nothing.
func assertPlatformExported(t *testing.T, c *testbed.Cluster, release string, lastRun []string) {
	t.Helper()
	if lastRun != nil {
		if r := runPlugin(t, c, lastRun...); r.code != 0 {
			t.Fatalf("kubeflow with the test's own files: exit %d", r.code)
		}
	}
	before := platformState(t, c)
	r := runPlugin(t, c, "export", "--platform")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "# The platform file of this cluster") || strings.Contains(r.stdout, kfGitHubSecret) {
		t.Fatalf("export --platform: exit %d, a file without its header or with the GitHub secret's value\n%s", r.code, r.stderr)
	}
	var file struct {
		Kind string                    `json:"kind"`
		Spec map[string]map[string]any `json:"spec"`
	}
	if err := sigsyaml.Unmarshal([]byte(r.stdout), &file); err != nil || file.Kind != "Platform" {
		t.Fatalf("export --platform is no Platform: %v\n%s", err, r.stdout)
	}
	kf := file.Spec["kubeflow"]
	gh, _ := kf["github"].(map[string]any)
	if kf["version"] != release || gh == nil || gh["clientSecretFile"] == "" {
		t.Errorf("kubeflow block %v: want version %s and the GitHub secret by its file", kf, release)
	}
	var asJSON map[string]any
	if j := runPlugin(t, c, "export", "--platform", "-o", "json"); j.code != 0 || json.Unmarshal([]byte(j.stdout), &asJSON) != nil || asJSON["kind"] != "Platform" {
		t.Errorf("export --platform -o json: exit %d\n%s", j.code, j.stdout)
	}
	sameState(t, before, platformState(t, c))
	// The kubeflow block alone: the bed's other suites may have left blocks whose files (a test
	// certificate) are gone with their test.
	var whole map[string]any
	if err := sigsyaml.Unmarshal([]byte(r.stdout), &whole); err != nil {
		t.Fatal(err)
	}
	whole["spec"] = map[string]any{"kubeflow": kf}
	data, err := sigsyaml.Marshal(whole)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "exported.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	a := runPlugin(t, c, "apply", "-f", path, "-o", "json")
	if a.code != 0 {
		t.Fatalf("apply -f of the exported file: exit %d\n%s", a.code, a.stderr)
	}
	wantResults(t, summaryOf(t, a), map[string]string{"kubeflow": "unchanged"})
}

// platformRecordVersion is the resourceVersion of the platform record ("" when there is none).
func platformRecordVersion(t *testing.T, c *testbed.Cluster) string {
	t.Helper()
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(context.Background(), section.PlatformRecord, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.ResourceVersion
}
