package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

// testConfig is a dist run over the real module root (LICENSE, README.md, helpers, template) with
// a stand-in for the compiled plugin, so packing and rendering are tested without cross-compiling.
func testConfig(t *testing.T) (*config, string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "plugin")
	if err := os.WriteFile(bin, []byte("plugin bytes"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	return &config{root: root, out: out, manifest: filepath.Join(out, "m.yaml"), version: "v1.2.3",
		mtime: time.Unix(1700000000, 0).UTC()}, bin
}

// TestPackReproducible proves an archive holds the four files with their modes and fixed times,
// and that packing twice gives the same sha256 (so a manifest's sha256 can be checked by anyone).
func TestPackReproducible(t *testing.T) {
	cfg, bin := testConfig(t)
	for _, p := range []platform{{"linux", "arm64"}, {"windows", "amd64"}} {
		a1, err := pack(cfg, p, bin)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := os.ReadFile(filepath.Join(cfg.out, a1.Name))
		a2, err := pack(cfg, p, bin)
		if err != nil {
			t.Fatal(err)
		}
		if a1.SHA256 != a2.SHA256 || len(a1.SHA256) != 64 {
			t.Errorf("%s: sha256 %s then %s, want the same", a1.Name, a1.SHA256, a2.SHA256)
		}
		entries := readArchive(t, a1.Name, first)
		want := map[string]os.FileMode{p.binary(): 0o755, p.completionHelper(): 0o755, "LICENSE": 0o644, "README.md": 0o644}
		for name, mode := range want {
			got, ok := entries[name]
			if !ok || got.mode.Perm() != mode || !got.mtime.Equal(cfg.mtime) {
				t.Errorf("%s: %s = %+v, want mode %v at %v", a1.Name, name, got, mode, cfg.mtime)
			}
		}
		if len(entries) != len(want) || string(entries[p.binary()].data) != "plugin bytes" {
			t.Errorf("%s: entries %v, want %v with the plugin binary", a1.Name, entries, want)
		}
	}
}

type archived struct {
	mode  os.FileMode
	mtime time.Time
	data  []byte
}

func readArchive(t *testing.T, name string, data []byte) map[string]archived {
	t.Helper()
	out := map[string]archived{}
	if strings.HasSuffix(name, ".zip") {
		zr, err := zip.NewReader(strings.NewReader(string(data)), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			out[f.Name] = archived{f.Mode(), f.Modified.UTC(), b}
		}
		return out
	}
	gz, err := gzip.NewReader(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = archived{os.FileMode(h.Mode), h.ModTime.UTC(), b}
	}
}

// TestManifest proves the template renders one platform entry per archive, with the release uri,
// the sha256 and the files krew copies.
func TestManifest(t *testing.T) {
	cfg, bin := testConfig(t)
	var archives []archive
	for _, p := range []platform{{"linux", "amd64"}, {"windows", "amd64"}} {
		a, err := pack(cfg, p, bin)
		if err != nil {
			t.Fatal(err)
		}
		archives = append(archives, a)
	}
	if err := writeManifest(cfg, archives); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(cfg.manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Spec struct {
			Version   string
			Platforms []struct {
				Selector         struct{ MatchLabels map[string]string }
				URI, SHA256, Bin string
				Files            []struct{ From, To string }
			}
		}
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("rendered manifest is not YAML: %v\n%s", err, data)
	}
	if m.Spec.Version != "v1.2.3" || len(m.Spec.Platforms) != 2 {
		t.Fatalf("version %s, %d platforms; want v1.2.3 and 2:\n%s", m.Spec.Version, len(m.Spec.Platforms), data)
	}
	for i, p := range m.Spec.Platforms {
		a := archives[i]
		if p.Selector.MatchLabels["os"] != a.OS || p.Selector.MatchLabels["arch"] != a.Arch || p.SHA256 != a.SHA256 ||
			p.URI != releaseURL+"/v1.2.3/"+a.Name || p.Bin != a.binary() {
			t.Errorf("platform %d = %+v, want %s/%s %s %s", i, p, a.OS, a.Arch, a.Name, a.SHA256)
		}
		var from []string
		for _, f := range p.Files {
			from = append(from, f.From)
		}
		if !slices.Equal(from, a.Files) {
			t.Errorf("platform %d files %v, want %v", i, from, a.Files)
		}
	}
	if !strings.Contains(string(data), `sha256: "`+archives[0].SHA256+`"`) {
		t.Errorf("sha256 is not quoted (krew's validator wants a string):\n%s", data)
	}
}

// TestParseFlags proves a non-semver version and a malformed platform are refused before building.
func TestParseFlags(t *testing.T) {
	for _, args := range [][]string{{"-version", "dev"}, {"-version", "1.2.3"}, {"-version", "v1.2.3", "-platforms", "linux"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%v) accepted it", args)
		}
	}
	cfg, err := parseFlags([]string{"-version", "v1.2.3-rc.1", "-platforms", "host", "-out", "x"})
	if err != nil || len(cfg.platforms) != 1 || cfg.manifest != filepath.Join("x", "krew-manifest.yaml") {
		t.Errorf("parseFlags host: %+v, %v", cfg, err)
	}
}
