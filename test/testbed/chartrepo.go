package testbed

import (
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"helm.sh/helm/v3/pkg/repo"
)

// FixturesDir returns ../shared/fixtures beside the module root (real upstream charts and
// manifests), skipping t with a clear message when it is absent.
func FixturesDir(t testing.TB) string {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("fixtures folder %s is absent (real upstream charts and manifests; CI always has it): %v", dir, err)
	}
	return dir
}

// ChartRepo serves the fixture charts (../shared/fixtures/charts/*.tgz) as a Helm chart
// repository on 127.0.0.1 until t ends, like a mirror of the upstream repositories, and returns
// its URL. The index.yaml is generated with helm's repo.IndexDirectory over a temp copy.
func ChartRepo(t testing.TB) string {
	t.Helper()
	url, _ := serveChartRepo(t, false, "", "")
	return url
}

// ChartRepoTLS serves the same repository over HTTPS with a certificate of a test CA (returned
// as PEM), answering 401 to requests without the basic-auth user and password: a private mirror.
func ChartRepoTLS(t testing.TB, user, password string) (url string, caPEM []byte) {
	t.Helper()
	return serveChartRepo(t, true, user, password)
}

func serveChartRepo(t testing.TB, useTLS bool, user, password string) (string, []byte) {
	t.Helper()
	src := filepath.Join(FixturesDir(t), "charts")
	charts, err := filepath.Glob(filepath.Join(src, "*.tgz"))
	if err != nil || len(charts) == 0 {
		t.Skipf("no chart archives in %s (%v)", src, err)
	}
	dir := t.TempDir()
	for _, p := range charts {
		if err := copyFile(p, filepath.Join(dir, filepath.Base(p))); err != nil {
			t.Fatal(err)
		}
	}
	var h http.Handler = http.FileServer(http.Dir(dir))
	if user != "" {
		files := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
				w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			files.ServeHTTP(w, r)
		})
	}
	srv := httptest.NewUnstartedServer(h)
	var caPEM []byte
	if useTLS {
		srv.StartTLS()
		caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	index, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatalf("index fixture charts: %v", err)
	}
	index.SortEntries()
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caPEM
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
