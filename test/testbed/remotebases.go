package testbed

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// RemoteBasesMirror serves the fixtures' remote kustomize bases (../shared/fixtures/kubeflow/
// remote: the argo-workflows and lws tag archives, the jobset release file) over HTTP on
// 127.0.0.1 until t ends, as a site's mirror for `--remote-bases-mirror` would, and returns its
// URL. Requests counts the requests served.
func RemoteBasesMirror(t testing.TB) (url string, requests func() int) {
	t.Helper()
	dir := Fixture(t, "kubeflow/remote")
	var n atomic.Int64
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { return int(n.Load()) }
}
