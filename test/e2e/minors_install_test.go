package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// minorOf is 29 for "v1.29.15".
func minorOf(t *testing.T, v string) int {
	t.Helper()
	m, err := strconv.Atoi(strings.Split(v, ".")[1])
	if err != nil {
		t.Fatalf("version %q: %v", v, err)
	}
	return m
}

// TestDefaultsInstallOnEveryMinor: on each extra minor's apiserver-only bed (the minors that bound
// the Kubeflow and gpu-operator releases between 1.21 and 1.37), a platform file with no version
// in it installs every section's default from the version matrix (server-side apply of the whole
// Kubeflow build, its remote bases from the loopback mirror, and the rendered charts, --wait=false:
// nothing runs workloads there) and the re-run is unchanged everywhere; then a release given just
// outside its bounds there is refused with exit 2 before any change. The bed runs no admission
// webhooks (nothing would serve them): it proves what that minor's API server accepts (served
// kinds, schemas, CEL rules), not what the workloads do.
func TestDefaultsInstallOnEveryMinor(t *testing.T) {
	repo := testbed.ChartRepo(t)
	mirror, _ := testbed.RemoteBasesMirror(t)
	for _, v := range testbed.APIServerVersions {
		t.Run(v, func(t *testing.T) {
			c := testbed.SharedAPIServer(t, testbed.Options{Version: v})
			minor := minorOf(t, v)
			kf := versions.Kubeflow.DefaultOn(minor).Version
			url := kubeflowArchiveURL(t, strings.TrimPrefix(kf, "v"))
			file := filepath.Join(t.TempDir(), "plugins.yaml")
			doc := `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: minors
spec:
  storage:
    nfsServer: ` + nfsServer + `
    nfsPath: ` + nfsPath + `
    chart: {repo: ` + repo + `}
  lb:
    addresses: [` + bedLBAddress + `]
    chart: {repo: ` + repo + `}
  kubeflow:
    manifests: ` + url + `
    remoteBasesMirror: ` + mirror + `
  gpu:
    operator:
      chart: {repo: ` + repo + `}
`
			if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runPlugin(t, c, "apply", "-f", file, "--wait=false")
			if r.code != 0 {
				t.Fatalf("apply -f on %s: exit %d\n%s", v, r.code, r.stderr)
			}
			for _, comp := range versions.Components {
				want := comp.Section + ": " + comp.What + " " + comp.DefaultOn(minor).Version
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			before := platformState(t, c)
			r = runPlugin(t, c, "apply", "-f", file, "--wait=false")
			if r.code != 0 {
				t.Fatalf("re-run on %s: exit %d\n%s", v, r.code, r.stderr)
			}
			for _, sec := range []string{"storage", "lb", "kubeflow", "gpu"} {
				if !regexp.MustCompile(`(?m)^` + sec + `\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
					t.Errorf("summary: %s is not unchanged:\n%s", sec, r.stdout)
				}
			}
			sameState(t, before, platformState(t, c))

			// Just outside the bounds: the Kubeflow releases that cannot install on this minor.
			namespaces := namespaceNames(t, c)
			for _, rel := range versions.Kubeflow.Releases {
				b := rel.Installs(minor)
				if b == nil {
					continue
				}
				r := runPlugin(t, c, "kubeflow", "--version", rel.Version, "--manifests", url, "--wait=false")
				if r.code != 2 || !strings.Contains(r.stderr, "Kubeflow "+rel.Version+" cannot be installed on Kubernetes "+v) || !strings.Contains(r.stderr, b.Why) {
					t.Errorf("kubeflow --version %s on %s: exit %d, want 2 naming %q:\n%s", rel.Version, v, r.code, b.Why, r.stderr)
				}
			}
			if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(namespaces, ",") {
				t.Fatalf("a refused run changed the namespaces: %v -> %v", namespaces, after)
			}
		})
	}
}
