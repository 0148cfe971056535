// Package distribution tests what users install: the release archives and krew manifest of
// `make dist` (hack/dist), installed by krew itself and run through kubectl's plugin discovery, and
// the shell completion scripts. Everything runs on loopback; skipped under -short.
package distribution

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// testVersion is the version the test's archives are built with.
const testVersion = "v0.1.0-e2e"

// releaseURL is where the manifest's uris point (the GitHub release of the version).
const releaseURL = "https://github.com/flexigrobots/kubectl-flexigrobots/releases/download/"

// manifest is the part of krew's Plugin the tests look at.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Version   string `json:"version"`
		Caveats   string `json:"caveats"`
		Platforms []struct {
			Selector struct {
				MatchLabels map[string]string `json:"matchLabels"`
			} `json:"selector"`
			URI    string `json:"uri"`
			SHA256 string `json:"sha256"`
			Bin    string `json:"bin"`
			Files  []struct {
				From string `json:"from"`
				To   string `json:"to"`
			} `json:"files"`
		} `json:"platforms"`
	} `json:"spec"`
}

// TestKrewInstall builds the host platform's archive with hack/dist, has krew's own validator
// accept the generated manifest (including its install of every platform, served from loopback),
// installs the plugin with krew from the local manifest and archive into a temporary KREW_ROOT,
// and runs `kubectl flexigrobots version --client` and `kubectl flexigrobots ver<TAB>` through
// kubectl's plugin discovery and plugin completion.
func TestKrewInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release archives and runs krew: skipped under -short (runs in make test)")
	}
	krew, validator, kubectl := tool(t, "krew"), tool(t, "validate-krew-manifest"), testbed.Kubectl(t)
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	run(t, root, nil, "go", "run", "./hack/dist", "-version", testVersion, "-platforms", "host", "-out", out)
	manifestFile := filepath.Join(out, "krew-manifest.yaml")
	archive := checkArchive(t, out, readManifest(t, manifestFile))

	// A folder with kubectl and kubectl-krew: what the validator and the user's shell call.
	pathDir := t.TempDir()
	for name, target := range map[string]string{"kubectl": kubectl, "kubectl-krew": krew} {
		if err := os.Symlink(target, filepath.Join(pathDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	basePath := pathDir + string(os.PathListSeparator) + "/usr/bin" + string(os.PathListSeparator) + "/bin"

	t.Run("validator", func(t *testing.T) {
		// krew insists that the file is named after the plugin.
		data, err := os.ReadFile(manifestFile)
		if err != nil {
			t.Fatal(err)
		}
		named := filepath.Join(t.TempDir(), "flexigrobots.yaml")
		writeFile(t, named, data)
		run(t, "", []string{"PATH=" + basePath}, validator, "-skip-install", "-manifest", named)

		// The full validation installs each platform with `kubectl krew install --manifest`, which
		// downloads the uri: serve the archives on loopback and point a copy's uris there.
		srv := httptest.NewServer(http.StripPrefix("/"+testVersion+"/", http.FileServer(http.Dir(out))))
		defer srv.Close()
		local := filepath.Join(t.TempDir(), "flexigrobots.yaml")
		writeFile(t, local, bytes.ReplaceAll(data, []byte(releaseURL), []byte(srv.URL+"/")))
		run(t, "", []string{"PATH=" + basePath}, validator, "-manifest", local)
	})

	t.Run("committed manifest", func(t *testing.T) {
		data, err := os.ReadFile(filepath.Join(root, "krew-manifest.yaml"))
		if err != nil {
			t.Fatalf("krew-manifest.yaml at the module root: %v (make dist VERSION=vX.Y.Z writes it)", err)
		}
		named := filepath.Join(t.TempDir(), "flexigrobots.yaml")
		writeFile(t, named, data)
		run(t, "", []string{"PATH=" + basePath}, validator, "-skip-install", "-manifest", named)
		var m manifest
		if err := yaml.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range m.Spec.Platforms {
			got = append(got, p.Selector.MatchLabels["os"]+"/"+p.Selector.MatchLabels["arch"])
		}
		want := []string{"linux/amd64", "linux/arm64", "darwin/amd64", "darwin/arm64", "windows/amd64"}
		if !slices.Equal(got, want) {
			t.Errorf("committed manifest platforms = %v, want %v", got, want)
		}
	})

	t.Run("krew install and kubectl plugin discovery", func(t *testing.T) {
		krewRoot, home := filepath.Join(t.TempDir(), "krew"), t.TempDir()
		userPath := filepath.Join(krewRoot, "bin") + string(os.PathListSeparator) + basePath
		env := []string{"KREW_ROOT=" + krewRoot, "HOME=" + home, "KREW_NO_UPGRADE_CHECK=1", "PATH=" + userPath}
		run(t, "", env, krew, "install", "--manifest="+manifestFile, "--archive="+archive)

		got := run(t, "", env, kubectl, "flexigrobots", "version", "--client")
		if !strings.Contains(got, "Plugin Version: "+testVersion) {
			t.Errorf("kubectl flexigrobots version --client printed %q, want the version %s", got, testVersion)
		}
		if list := run(t, "", env, kubectl, "plugin", "list"); !strings.Contains(list, filepath.Join(krewRoot, "bin", "kubectl-flexigrobots")) {
			t.Errorf("kubectl plugin list does not show krew's kubectl-flexigrobots:\n%s", list)
		}

		// Plugin completion, set up as the caveats say: link the helper from krew's store.
		helper := filepath.Join(krewRoot, "store", "flexigrobots", testVersion, "kubectl_complete-flexigrobots")
		if err := os.Symlink(helper, filepath.Join(krewRoot, "bin", "kubectl_complete-flexigrobots")); err != nil {
			t.Fatal(err)
		}
		var comps []string // "name\tdescription" lines, then the directive
		for _, l := range strings.Split(run(t, "", env, kubectl, "__complete", "flexigrobots", "ver"), "\n") {
			name, _, _ := strings.Cut(l, "\t")
			comps = append(comps, name)
		}
		if !slices.Contains(comps, "version") {
			t.Errorf("kubectl __complete flexigrobots ver = %v, want version among them", comps)
		}
	})
}

// checkArchive checks the one-platform dist output against its manifest (uri, sha256 of the file,
// sha256sums.txt, bin and the files krew copies) and returns the archive's path.
func checkArchive(t *testing.T, out string, m manifest) string {
	t.Helper()
	if m.APIVersion != "krew.googlecontainertools.github.com/v1alpha2" || m.Kind != "Plugin" || m.Metadata.Name != "flexigrobots" || m.Spec.Version != testVersion {
		t.Fatalf("manifest header = %s %s %s %s", m.APIVersion, m.Kind, m.Metadata.Name, m.Spec.Version)
	}
	if len(m.Spec.Platforms) != 1 {
		t.Fatalf("manifest has %d platforms, want the host's only", len(m.Spec.Platforms))
	}
	p := m.Spec.Platforms[0]
	if p.Selector.MatchLabels["os"] != runtime.GOOS || p.Selector.MatchLabels["arch"] != runtime.GOARCH {
		t.Errorf("selector = %v, want os=%s arch=%s", p.Selector.MatchLabels, runtime.GOOS, runtime.GOARCH)
	}
	name := "kubectl-flexigrobots_" + testVersion + "_" + runtime.GOOS + "_" + runtime.GOARCH + ".tar.gz"
	if want := releaseURL + testVersion + "/" + name; p.URI != want {
		t.Errorf("uri = %s, want %s", p.URI, want)
	}
	archive := filepath.Join(out, name)
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != p.SHA256 {
		t.Errorf("manifest sha256 %s does not match the archive's %x", p.SHA256, sum)
	}
	sums, err := os.ReadFile(filepath.Join(out, "sha256sums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := p.SHA256 + "  " + name + "\n"; string(sums) != want {
		t.Errorf("sha256sums.txt = %q, want %q", sums, want)
	}
	var files []string
	for _, f := range p.Files {
		files = append(files, f.From)
	}
	want := []string{"kubectl-flexigrobots", "kubectl_complete-flexigrobots", "LICENSE", "README.md"}
	if p.Bin != "kubectl-flexigrobots" || !slices.Equal(files, want) {
		t.Errorf("bin %s, files %v; want kubectl-flexigrobots, %v", p.Bin, files, want)
	}
	return archive
}

func readManifest(t *testing.T, path string) manifest {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// tool returns a binary of .testbin/tools (hack/testbin.sh tools).
func tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("TESTBIN")
	if dir == "" {
		root, err := testbed.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".testbin")
	}
	p := filepath.Join(dir, "tools", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s missing in %s: run `make testbin` (or hack/testbin.sh tools)", name, filepath.Dir(p))
	}
	return p
}

// run runs name with args in dir (the current one if empty) with env added to the test's, fails
// the test on a non-zero exit, and returns stdout.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("%s %s\nstdout:\n%s\nstderr:\n%s", filepath.Base(name), strings.Join(args, " "), stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), err)
	}
	return stdout.String()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
