package kubeflow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// archiveServer serves the fixture archive, truncated for the first `broken` requests.
func archiveServer(t *testing.T, archive string, broken int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if n <= broken {
			_, _ = w.Write(data[:len(data)/2])
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestProfileUnknownVersionIsUsageError(t *testing.T) {
	if _, err := ProfileFor("v9.9.9"); !core.IsUsageError(err) {
		t.Fatalf("want a usage error, got %v", err)
	}
	p, err := ProfileFor("1.10.2")
	if err != nil || p.Version != "v1.10.2" {
		t.Fatalf("1.10.2: %v %v", p.Version, err)
	}
}

// TestDownloadRetriesPartialAndCaches proves a truncated download is detected and retried, the
// verified archive is cached, and the next load uses the cache without a request.
func TestDownloadRetriesPartialAndCaches(t *testing.T) {
	p, _ := ProfileFor("v1.10.2")
	srv, hits := archiveServer(t, testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz"), 1)
	cache := t.TempDir()
	src := Source{Manifests: srv.URL + "/v1.10.2.tar.gz", CacheDir: cache}
	tree, err := src.Load(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Fatalf("want 2 requests (1 truncated, 1 good), got %d", hits.Load())
	}
	if tree.Top != "/manifests-1.10.2" || !tree.FS.Exists(tree.Path(p.DashboardParams)) {
		t.Fatalf("tree top %q lacks %s", tree.Top, p.DashboardParams)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Fatalf("cache holds %d files, want the one verified archive: %v", len(entries), entries)
	}
	if _, err := src.Load(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Fatalf("second load downloaded again (%d requests)", hits.Load())
	}
}

// TestDownloadAlwaysTruncatedIsRejected proves a partial archive is never used nor cached, and a
// corrupt cached file is replaced.
func TestDownloadAlwaysTruncatedIsRejected(t *testing.T) {
	p, _ := ProfileFor("v1.10.2")
	srv, hits := archiveServer(t, testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz"), 100)
	cache := t.TempDir()
	src := Source{Manifests: srv.URL + "/x.tar.gz", CacheDir: cache, Attempts: 2}
	if _, err := src.Load(context.Background(), p); err == nil {
		t.Fatal("truncated archive accepted")
	}
	if hits.Load() != 2 {
		t.Fatalf("want 2 attempts, got %d", hits.Load())
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 0 {
		t.Fatalf("partial download left in the cache: %v", entries)
	}
}

func TestCorruptCacheIsReplaced(t *testing.T) {
	p, _ := ProfileFor("v1.10.2")
	srv, hits := archiveServer(t, testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz"), 0)
	cache := t.TempDir()
	src := Source{Manifests: srv.URL + "/y.tar.gz", CacheDir: cache}
	if _, err := src.Load(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(cache)
	cached := filepath.Join(cache, entries[0].Name())
	if err := os.WriteFile(cached, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Load(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 2 {
		t.Fatalf("corrupt cache not replaced by a new download (%d requests)", hits.Load())
	}
}

func TestLocalSourcesAndBadPath(t *testing.T) {
	p, _ := ProfileFor("v1.5.0")
	archive := testbed.Fixture(t, "kubeflow/manifests-1.5.0.tar.gz")
	tree, err := Source{Manifests: archive}.Load(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if !tree.FS.Exists(tree.Path(p.OIDCFile)) {
		t.Fatalf("no %s in %s", p.OIDCFile, tree.Top)
	}
	if _, err := (Source{Manifests: filepath.Join(t.TempDir(), "missing")}).Load(context.Background(), p); !core.IsUsageError(err) {
		t.Fatalf("missing path: want usage error, got %v", err)
	}
	if _, err := (Source{Manifests: t.TempDir()}).Load(context.Background(), p); !core.IsUsageError(err) {
		t.Fatalf("empty folder: want usage error, got %v", err)
	}
}
