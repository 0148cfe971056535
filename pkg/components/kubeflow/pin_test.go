package kubeflow

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// recompressed is the fixture's tar stream gzipped again at another level: the same files, a
// valid archive, other bytes (what a proxy that re-encodes downloads, or a moved tag, serves).
func recompressed(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if _, err := io.Copy(zw, zr); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "other.tar.gz")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestTagArchivesMatchTheirPins proves the pinned digests are those of the tag archives the
// fixtures hold (GitHub's, byte for byte), served from where the default download comes from.
func TestTagArchivesMatchTheirPins(t *testing.T) {
	for _, v := range Versions() {
		p, _ := ProfileFor(v)
		srv, hits := archiveServer(t, testbed.Fixture(t, "kubeflow/"+p.Top+".tar.gz"), 0)
		src := Source{CacheDir: t.TempDir(), tagArchiveURL: srv.URL + "/" + v + ".tar.gz"}
		tree, err := src.Load(context.Background(), p)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if tree.Top != "/"+p.Top || hits.Load() != 1 {
			t.Fatalf("%s: top %q after %d requests", v, tree.Top, hits.Load())
		}
	}
}

// TestTagArchiveOtherThanItsPinIsRefused proves a download of a known tag that is not the pinned
// archive is an error naming both digests, tried once, never cached; a cached archive that no
// longer matches is downloaded again; and --manifests URL serves the same bytes as given.
func TestTagArchiveOtherThanItsPinIsRefused(t *testing.T) {
	p, _ := ProfileFor("v1.10.2")
	fixture := testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz")
	other := recompressed(t, fixture)
	otherSum, err := fileSHA256(other)
	if err != nil {
		t.Fatal(err)
	}
	bad, badHits := archiveServer(t, other, 0)
	cache := t.TempDir()
	_, err = Source{CacheDir: cache, tagArchiveURL: bad.URL + "/v1.10.2.tar.gz"}.Load(context.Background(), p)
	if err == nil {
		t.Fatal("an archive other than the pinned one was used")
	}
	for _, want := range []string{otherSum, p.ArchiveSHA256, "--manifests"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
	if badHits.Load() != 1 {
		t.Errorf("a digest mismatch was retried: %d requests", badHits.Load())
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("the refused archive was cached: %v", entries)
	}

	// The same bytes in the cache (put there by hand) are replaced by the pinned download.
	if err := os.WriteFile(filepath.Join(cache, "v1.10.2.tar.gz"), mustRead(t, other), 0o644); err != nil {
		t.Fatal(err)
	}
	good, goodHits := archiveServer(t, fixture, 0)
	if _, err := (Source{CacheDir: cache, tagArchiveURL: good.URL + "/v1.10.2.tar.gz"}).Load(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if goodHits.Load() != 1 {
		t.Errorf("a cached archive other than the pinned one was used (%d downloads)", goodHits.Load())
	}
	if sum, _ := fileSHA256(filepath.Join(cache, "v1.10.2.tar.gz")); sum != p.ArchiveSHA256 {
		t.Errorf("cache holds sha256 %s, want the pinned %s", sum, p.ArchiveSHA256)
	}

	// --manifests URL is used as given.
	if _, err := (Source{CacheDir: cache, Manifests: bad.URL + "/mirror.tar.gz"}).Load(context.Background(), p); err != nil {
		t.Fatalf("--manifests URL not used as given: %v", err)
	}
}

func mustRead(t *testing.T, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// mirrorName is a pinned GitHub tag archive's name in a remote-bases mirror (REPO-TAG.tar.gz,
// the tag without its "v", as GitHub names the download).
func mirrorName(t *testing.T, url string) string {
	t.Helper()
	rest, ok := strings.CutPrefix(url, "https://github.com/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 6 || parts[2] != "archive" || !strings.HasSuffix(parts[5], ".tar.gz") {
		t.Fatalf("pin %s is not a GitHub tag archive", url)
	}
	return parts[1] + "-" + strings.TrimPrefix(parts[5], "v")
}

// TestRemoteBasePinsMatchTheFixtures proves each release's pinned remote bases are the tag
// archives the fixtures' mirror holds.
func TestRemoteBasePinsMatchTheFixtures(t *testing.T) {
	mirror := testbed.Fixture(t, "kubeflow/remote")
	pins := 0
	for _, v := range Versions() {
		p, _ := ProfileFor(v)
		for url, pin := range p.RemotePins {
			pins++
			got, err := fileSHA256(filepath.Join(mirror, mirrorName(t, url)))
			if err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			if got != pin {
				t.Errorf("%s: %s is pinned at %s, the fixture's sha256 is %s", v, url, pin, got)
			}
		}
	}
	if pins == 0 {
		t.Fatal("no release pins a remote base")
	}
}

// TestRemoteBaseOtherThanItsPinIsRefused: a mirror serving other bytes for a pinned base (the
// same files, gzipped again) fails the build with both digests, before anything is built.
func TestRemoteBaseOtherThanItsPinIsRefused(t *testing.T) {
	p, _ := ProfileFor("26.03")
	fixtures := testbed.Fixture(t, "kubeflow/remote")
	mirror := t.TempDir()
	entries, err := os.ReadDir(fixtures)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(mirror, e.Name()), mustRead(t, filepath.Join(fixtures, e.Name())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const argo = "https://github.com/argoproj/argo-workflows/archive/refs/tags/v3.7.3.tar.gz"
	name := filepath.Join(mirror, mirrorName(t, argo))
	if err := os.WriteFile(name, mustRead(t, recompressed(t, name)), 0o644); err != nil {
		t.Fatal(err)
	}
	other, _ := fileSHA256(name)
	src := fixtureSource(t, p)
	src.RemoteBasesMirror = mirror
	_, err = Build(context.Background(), p, src, Edits{})
	if err == nil {
		t.Fatal("a remote base other than the pinned one was used")
	}
	for _, want := range []string{p.RemotePins[argo], other} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}
