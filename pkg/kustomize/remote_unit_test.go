package kustomize

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func TestParseRemote(t *testing.T) {
	sha := strings.Repeat("0123456789", 4)
	for _, tc := range []struct {
		entry                  string
		archive                bool
		org, repo, ref, path   string
		url, name, errContains string
	}{
		{entry: argoCRDs, archive: true, org: "argoproj", repo: "argo-workflows", ref: "v3.7.3", path: "manifests/base/crds/minimal",
			url: "https://github.com/argoproj/argo-workflows/archive/refs/tags/v3.7.3.tar.gz", name: "argo-workflows-3.7.3.tar.gz"},
		{entry: lwsBase, archive: true, org: "kubernetes-sigs", repo: "lws", ref: "v0.7.0", path: "config/default",
			url: "https://github.com/kubernetes-sigs/lws/archive/refs/tags/v0.7.0.tar.gz", name: "lws-0.7.0.tar.gz"},
		{entry: "github.com/org/repo.git//deploy/base?version=v1.2.3", archive: true, org: "org", repo: "repo", ref: "v1.2.3",
			path: "deploy/base", url: "https://github.com/org/repo/archive/refs/tags/v1.2.3.tar.gz", name: "repo-1.2.3.tar.gz"},
		{entry: "git::git@github.com:org/repo/deploy?ref=1.0", archive: true, org: "org", repo: "repo", ref: "1.0", path: "deploy",
			url: "https://github.com/org/repo/archive/refs/tags/1.0.tar.gz", name: "repo-1.0.tar.gz"},
		{entry: "https://github.com/org/repo?ref=" + sha, archive: true, org: "org", repo: "repo", ref: sha,
			url: "https://github.com/org/repo/archive/" + sha + ".tar.gz", name: "repo-" + sha + ".tar.gz"},
		{entry: jobsetFile, url: jobsetFile, name: "jobset-v0.10.1-manifests.yaml"},
		{entry: "https://example.test/a/b/crds.yaml?x=1", url: "https://example.test/a/b/crds.yaml?x=1", name: "crds.yaml"},
		{entry: "https://example.test/r/.github/x.yaml", url: "https://example.test/r/.github/x.yaml", name: "x.yaml"},
		{entry: "https://gitlab.example.test/org/repo//base?ref=v1", errContains: "vendor it"},
		{entry: "git@gitlab.example.test:org/repo.git", errContains: "gitlab.example.test"},
		{entry: "https://github.com/org/repo/base", errContains: "?ref="},
		{entry: "https://github.com/org/repo//../x?ref=v1", errContains: "leaves the repository"},
		{entry: "https://github.com/org/repo/x?ref=-v1", errContains: "not a tag"},
		{entry: "file:///srv/repo//base", errContains: "local git repository"},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			got, err := parseRemote(tc.entry)
			if tc.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errContains) || !strings.Contains(err.Error(), tc.entry) {
					t.Fatalf("err = %v, want one naming the entry and saying %q", err, tc.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Archive != tc.archive || got.Org != tc.org || got.Repo != tc.repo || got.Ref != tc.ref ||
				got.Path != tc.path || got.URL != tc.url || got.Name != tc.name {
				t.Errorf("got %+v", got)
			}
			if got.Local == "" || strings.Contains(got.Local, "..") || !memFSName.MatchString(got.Local) {
				t.Errorf("local path %q is not a safe relative path", got.Local)
			}
		})
	}
}

// tarGz builds a .tar.gz: an entry is a symlink when link is set, a folder when its name ends
// in "/", else a file holding body.
func tarGz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e.body))}
		if e.link != "" {
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		} else if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type tarEntry struct{ name, body, link string }

func TestExtractTarGzFS(t *testing.T) {
	fs := filesys.MakeFsInMemory()
	top, err := ExtractTarGzFS(tarGz(t,
		tarEntry{name: "repo-1.0/"},
		tarEntry{name: "repo-1.0/a/file.yaml", body: "x: 1\n"},
		tarEntry{name: "repo-1.0/b/link.yaml", link: "../a/file.yaml"},
		tarEntry{name: "repo-1.0/b/out.yaml", link: "../../../etc/passwd"},
		tarEntry{name: "repo-1.0/docs/with space.md", body: "skipped in memory"},
	), fs, "/dest")
	if err != nil || top != "repo-1.0" {
		t.Fatalf("top %q, err %v", top, err)
	}
	if b, err := fs.ReadFile("/dest/b/link.yaml"); err != nil || string(b) != "x: 1\n" {
		t.Errorf("link inside the archive: %q, %v; want a copy of its target", b, err)
	}
	if fs.Exists("/dest/b/out.yaml") {
		t.Error("a link leaving the archive was followed")
	}
	for name, entries := range map[string][]tarEntry{
		"parent":   {{name: "repo/../../evil.yaml", body: "x"}},
		"absolute": {{name: "/etc/evil.yaml", body: "x"}},
		"two tops": {{name: "a/x.yaml", body: "x"}, {name: "b/y.yaml", body: "y"}},
	} {
		if _, err := ExtractTarGzFS(tarGz(t, entries...), filesys.MakeFsInMemory(), "/dest"); err == nil {
			t.Errorf("%s: archive accepted", name)
		}
	}
	data := tarGz(t, tarEntry{name: "r/x.yaml", body: strings.Repeat("x", 1000)})
	if _, err := ExtractTarGzFS(data[:len(data)/2], filesys.MakeFsInMemory(), "/dest"); err == nil {
		t.Error("truncated archive accepted")
	}
}

// synthetic is an in-memory tree with top /t and the given kustomization in /t/app.
func synthetic(t *testing.T, kustomization string) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	if err := fs.WriteFile("/t/app/kustomization.yaml", []byte(kustomization)); err != nil {
		t.Fatal(err)
	}
	return fs
}

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// serveFiles serves name -> content on 127.0.0.1; fail(n) for the n-th request may answer an
// HTTP error status instead (0: serve).
func serveFiles(t *testing.T, files map[string][]byte, fail func(n int64) int) (*countingServer, *atomic.Int64) {
	var n atomic.Int64
	srv := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code := fail(n.Add(1)); code != 0 {
			http.Error(w, http.StatusText(code), code)
			return
		}
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	return srv, &n
}

func never(int64) int { return 0 }

func TestVendorPinMismatch(t *testing.T) {
	const url = "https://example.test/x/cm.yaml"
	kust := "resources:\n- " + url + "\n"
	served := []byte(strings.Replace(configMap, "%s", "served", 1))
	srv, _ := serveFiles(t, map[string][]byte{"cm.yaml": served}, never)
	pin := sha([]byte("the pinned content"))
	cache := t.TempDir()
	fs := synthetic(t, kust)
	r := Remotes{Mirror: srv.URL, CacheDir: cache, Pins: map[string]string{url: pin}}
	_, err := r.Vendor(context.Background(), fs, "/t", "/t/app")
	var mismatch *PinMismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), pin) || !strings.Contains(err.Error(), sha(served)) {
		t.Fatalf("err = %v, want a pin mismatch naming both digests", err)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("a refused download was cached: %v", entries)
	}
	if b, _ := fs.ReadFile("/t/app/kustomization.yaml"); string(b) != kust {
		t.Errorf("kustomization rewritten after a refused download:\n%s", b)
	}
}

// TestVendorCacheReverified: a cache entry that no longer matches its pin, or an unpinned archive
// that no longer unpacks, is removed and downloaded again.
func TestVendorCacheReverified(t *testing.T) {
	const fileURL = "https://example.test/cm.yaml"
	const gitURL = "https://github.com/org/repo//base?ref=v1.0"
	cm := []byte(strings.Replace(configMap, "%s", "file", 1))
	archive := tarGz(t, tarEntry{name: "repo-1.0/base/kustomization.yaml", body: "resources:\n- cm.yaml\n"},
		tarEntry{name: "repo-1.0/base/cm.yaml", body: strings.Replace(configMap, "%s", "base", 1)})
	srv, _ := serveFiles(t, map[string][]byte{"cm.yaml": cm, "repo-1.0.tar.gz": archive}, never)
	kust := "resources:\n- " + fileURL + "\n- " + gitURL + "\n"
	r := Remotes{Mirror: srv.URL, CacheDir: t.TempDir(), Pins: map[string]string{fileURL: sha(cm)}}
	if _, err := r.Vendor(context.Background(), synthetic(t, kust), "/t", "/t/app"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(r.CacheDir)
	if len(entries) != 2 || srv.total() != 2 {
		t.Fatalf("cache %v after %d requests, want the 2 downloads", entries, srv.total())
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(r.CacheDir, e.Name()), []byte("corrupt"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fs := synthetic(t, kust)
	got, err := r.Vendor(context.Background(), fs, "/t", "/t/app")
	if err != nil {
		t.Fatal(err)
	}
	if srv.total() != 4 {
		t.Errorf("%d requests, want both corrupt entries fetched again (4)", srv.total())
	}
	for _, f := range got {
		if f.Cached {
			t.Errorf("%s came from a corrupt cache entry", f.Ref)
		}
	}
	for _, e := range entries {
		if b, _ := os.ReadFile(filepath.Join(r.CacheDir, e.Name())); string(b) == "corrupt" {
			t.Errorf("cache entry %s still corrupt", e.Name())
		}
	}
	checkBuild(t, fs, "/t/app", 2)
}

func TestVendorRetries(t *testing.T) {
	const url = "https://example.test/cm.yaml"
	cm := []byte(strings.Replace(configMap, "%s", "retried", 1))
	for _, tc := range []struct {
		name      string
		fail      func(int64) int
		requests  int64
		errSays   []string
		cancelled bool
	}{
		{name: "one 503", fail: func(n int64) int {
			if n == 1 {
				return 503
			}
			return 0
		}, requests: 2},
		{name: "404 is final", fail: func(int64) int { return 404 }, requests: 1, errSays: []string{url, "has no cm.yaml"}},
		{name: "503 always", fail: func(int64) int { return 503 }, requests: 3, errSays: []string{url, "3 times", "cm.yaml"}},
		{name: "cancelled", fail: func(int64) int { return 503 }, requests: 1, cancelled: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := serveFiles(t, map[string][]byte{"cm.yaml": cm}, tc.fail)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := Remotes{Mirror: srv.URL, retryWait: time.Millisecond}
			if tc.cancelled {
				r.retryWait = time.Minute
				r.Logf = func(f string, a ...any) {
					if strings.Contains(f, "failed") {
						cancel()
					}
				}
			}
			_, err := r.Vendor(ctx, synthetic(t, "resources:\n- "+url+"\n"), "/t", "/t/app")
			if n.Load() != tc.requests {
				t.Errorf("%d requests, want %d", n.Load(), tc.requests)
			}
			switch {
			case tc.cancelled:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
			case tc.errSays == nil && err != nil:
				t.Errorf("err = %v", err)
			}
			for _, s := range tc.errSays {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Errorf("err = %v, want it to say %q", err, s)
				}
			}
		})
	}
}

// TestVendorRewritesInPlace: only the remote entries change in the kustomization (comments,
// quoting and other fields stay byte for byte), and a remote base's own remote entry is vendored.
func TestVendorRewritesInPlace(t *testing.T) {
	const fileURL = "https://example.test/files/cm.yaml"
	const gitURL = "https://github.com/org/repo/deploy?ref=v2.0"
	const nestedURL = "https://example.test/nested/nested.yaml"
	kust := "# top comment\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n" +
		"  - \"" + fileURL + "\"   # quoted, with a comment\n  - '" + gitURL + "'\nnamespace: demo # kept\n"
	archive := tarGz(t, tarEntry{name: "repo-2.0/deploy/kustomization.yaml", body: "resources:\n- ../shared\n"},
		tarEntry{name: "repo-2.0/shared/kustomization.yaml", body: "resources:\n- " + nestedURL + "\n"})
	srv, _ := serveFiles(t, map[string][]byte{
		"cm.yaml": []byte(strings.Replace(configMap, "%s", "file", 1)), "repo-2.0.tar.gz": archive,
		"nested.yaml": []byte(strings.Replace(configMap, "%s", "nested", 1)),
	}, never)
	fs := synthetic(t, kust)
	got, err := Remotes{Mirror: srv.URL}.Vendor(context.Background(), fs, "/t", "/t/app")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("fetched %d, want the file, the base and the base's remote file: %+v", len(got), got)
	}
	b, _ := fs.ReadFile("/t/app/kustomization.yaml")
	out := string(b)
	for _, url := range []string{fileURL, gitURL} {
		i := strings.Index(kust, url)
		if !strings.HasPrefix(out, kust[:i]) {
			t.Fatalf("bytes before %s changed:\n%s", url, out)
		}
		end := strings.IndexAny(out[i:], "\"'")
		local := out[i : i+end]
		if !fs.Exists(filepath.Join("/t/app", local)) || strings.Contains(local, "://") {
			t.Errorf("entry %s became %q, not a local path", url, local)
		}
		// Continue the comparison after the rewritten entry.
		kust, out = kust[i+len(url):], out[i+end:]
	}
	if out != kust {
		t.Errorf("bytes after the entries changed: %q, want %q", out, kust)
	}
	refs, err := RemoteRefs(fs, "/t/app")
	if err != nil || len(refs) != 0 {
		t.Errorf("remote entries left after Vendor (nested ones included): %q %v", refs, err)
	}
	checkBuild(t, fs, "/t/app", 2)
}

func TestVendorRefusesOtherGitHosts(t *testing.T) {
	const url = "https://gitlab.example.test/org/repo//deploy?ref=v1"
	srv, n := serveFiles(t, nil, never)
	_, err := Remotes{Mirror: srv.URL}.Vendor(context.Background(), synthetic(t, "resources:\n- "+url+"\n"), "/t", "/t/app")
	if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "vendor") {
		t.Errorf("err = %v, want one naming the URL and saying to vendor it", err)
	}
	if n.Load() != 0 {
		t.Errorf("%d requests for a refused entry", n.Load())
	}
}

// TestRemoteRefsLocalFirst: like kustomize, a git-like entry naming an existing local folder is
// local (and followed), and an http URL is always remote.
func TestRemoteRefsLocalFirst(t *testing.T) {
	fs := synthetic(t, "resources:\n- github.com/org/local\n- https://example.test/a.yaml\n")
	if err := fs.WriteFile("/t/app/github.com/org/local/kustomization.yaml",
		[]byte("resources:\n- git@github.com:org/repo//x?ref=v1\n")); err != nil {
		t.Fatal(err)
	}
	refs, err := RemoteRefs(fs, "/t/app")
	want := []string{"git@github.com:org/repo//x?ref=v1", "https://example.test/a.yaml"}
	if err != nil || strings.Join(refs, ",") != strings.Join(want, ",") {
		t.Errorf("RemoteRefs = %q, %v; want %q", refs, err, want)
	}
}
