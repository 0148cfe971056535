package testbed

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
)

// DefaultFixturesDir is ../shared/fixtures beside the module root, or "" when it is absent.
func DefaultFixturesDir() string {
	root, err := ModuleRoot()
	if err != nil {
		return ""
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

// ServeChartDir serves the chart archives of src as a Helm chart repository on 127.0.0.1 (an
// index.yaml made with helm's repo.IndexDirectory over a copy in work) and returns its URL and a
// function that stops the server.
func ServeChartDir(src, work string) (url string, stop func(), err error) {
	charts, err := filepath.Glob(filepath.Join(src, "*.tgz"))
	if err != nil || len(charts) == 0 {
		return "", nil, fmt.Errorf("no chart archives in %s (%v)", src, err)
	}
	for _, p := range charts {
		if err := copyFile(p, filepath.Join(work, filepath.Base(p))); err != nil {
			return "", nil, err
		}
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(work)))
	index, err := repo.IndexDirectory(work, srv.URL)
	if err != nil {
		srv.Close()
		return "", nil, fmt.Errorf("index charts: %w", err)
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(work, "index.yaml"), 0o644); err != nil {
		srv.Close()
		return "", nil, err
	}
	return srv.URL, srv.Close, nil
}

// Fixture returns the path of one file or folder under ../shared/fixtures (e.g.
// "kubeflow/manifests-1.10.2.tar.gz"), skipping t with a clear message when it is absent.
func Fixture(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(FixturesDir(t), rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("fixture %s absent (../shared/fixtures is provided in CI): %v", rel, err)
	}
	return p
}
