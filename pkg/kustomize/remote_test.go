package kustomize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The remote entries of kubeflow/manifests v1.11.0 and 26.03 that `build example` reaches (lws
// only from the trainer's data-cache overlay, which example does not include).
const (
	argoController = "https://github.com/argoproj/argo-workflows/manifests/base/workflow-controller?ref=v3.7.3"
	argoCRDs       = "https://github.com/argoproj/argo-workflows/manifests/base/crds/minimal?ref=v3.7.3"
	argoRBAC       = "https://github.com/argoproj/argo-workflows/manifests/cluster-install-no-crds/workflow-controller-rbac?ref=v3.7.3"
	lwsBase        = "https://github.com/kubernetes-sigs/lws//config/default?ref=v0.7.0"
	jobsetFile     = "https://github.com/kubernetes-sigs/jobset/releases/download/v0.10.1/manifests.yaml"
)

// Object and CRD counts of `build example` after vendoring, measured with this repository's
// kustomize API; kustomize v5.5 gives the same.
var kubeflowRemoteBuilds = map[string]struct{ objects, crds int }{
	"kubeflow/manifests-1.11.0.tar.gz": {653, 70}, "kubeflow/manifests-26.03.tar.gz": {675, 74},
}

// loadTree unpacks a fixture archive into an in-memory file system and returns it with its top.
func loadTree(t *testing.T, archive string) (filesys.FileSystem, string) {
	t.Helper()
	data, err := os.ReadFile(testbed.Fixture(t, archive))
	if err != nil {
		t.Fatal(err)
	}
	fs := filesys.MakeFsInMemory()
	if _, err := ExtractTarGzFS(data, fs, "/manifests"); err != nil {
		t.Fatal(err)
	}
	return fs, "/manifests"
}

// remoteFixtures is the folder of the remote bases' fixtures and their pins (sha256 by the
// canonical GitHub URL), computed from the files.
func remoteFixtures(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := filepath.Dir(testbed.Fixture(t, "kubeflow/remote/argo-workflows-3.7.3.tar.gz"))
	pins := map[string]string{}
	for name, url := range map[string]string{
		"argo-workflows-3.7.3.tar.gz":   "https://github.com/argoproj/argo-workflows/archive/refs/tags/v3.7.3.tar.gz",
		"lws-0.7.0.tar.gz":              "https://github.com/kubernetes-sigs/lws/archive/refs/tags/v0.7.0.tar.gz",
		"jobset-v0.10.1-manifests.yaml": jobsetFile,
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Skipf("fixture %s absent: %v", name, err)
		}
		sum := sha256.Sum256(data)
		pins[url] = hex.EncodeToString(sum[:])
	}
	return dir, pins
}

// countingServer serves dir on 127.0.0.1 and counts the requests per path.
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
}

func serveCounting(t *testing.T, h http.Handler) *countingServer {
	s := &countingServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *countingServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.hits {
		n += c
	}
	return n
}

// checkBuild builds dir offline and checks the object count (when want > 0) and that the CRDs
// of the remote bases are in it; it returns the number of CRDs.
func checkBuild(t *testing.T, fs filesys.FileSystem, dir string, want int, crds ...string) int {
	t.Helper()
	objs, err := BuildFS(fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	if want > 0 && len(objs) != want {
		t.Errorf("built %d objects, want %d", len(objs), want)
	}
	built := map[string]bool{}
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" {
			built[o.GetName()] = true
		}
	}
	for _, c := range crds {
		if !built[c] {
			t.Errorf("CRD %s is not in the build of %s", c, dir)
		}
	}
	return len(built)
}

// checkKubeflow builds example of a vendored Kubeflow tree and checks its counts.
func checkKubeflow(t *testing.T, fs filesys.FileSystem, top, archive string) {
	t.Helper()
	want := kubeflowRemoteBuilds[archive]
	crds := checkBuild(t, fs, filepath.Join(top, "example"), want.objects, "workflows.argoproj.io", "jobsets.jobset.x-k8s.io")
	if crds != want.crds {
		t.Errorf("built %d CRDs, want %d", crds, want.crds)
	}
}

// TestRemoteRefsKubeflow lists exactly the remote entries the build reaches, not the unused
// overlays with jobset v0.6.0 nor the cluster-wide argo install.
func TestRemoteRefsKubeflow(t *testing.T) {
	want := []string{argoCRDs, argoController, argoRBAC, jobsetFile}
	for archive := range kubeflowRemoteBuilds {
		t.Run(archive, func(t *testing.T) {
			fs, top := loadTree(t, archive)
			refs, err := RemoteRefs(fs, filepath.Join(top, "example"))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(refs)
			if !slices.Equal(refs, want) {
				t.Errorf("RemoteRefs = %q\nwant %q", refs, want)
			}
		})
	}
}

// TestVendorKubeflowHTTPMirror vendors v1.11.0 from a mirror served over HTTP with pins and a
// cache, builds it offline, then vendors a fresh copy again from the cache without any request.
func TestVendorKubeflowHTTPMirror(t *testing.T) {
	const archive = "kubeflow/manifests-1.11.0.tar.gz"
	fs, top := loadTree(t, archive)
	dir, pins := remoteFixtures(t)
	srv := serveCounting(t, http.FileServer(http.Dir(dir)))
	r := Remotes{Mirror: srv.URL, CacheDir: t.TempDir(), Pins: pins, Logf: t.Logf}
	got, err := r.Vendor(context.Background(), fs, top, filepath.Join(top, "example"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Errorf("fetched %d entries, want 4: %+v", len(got), got)
	}
	for _, f := range got {
		if !f.Pinned || f.Cached || !strings.HasPrefix(f.From, srv.URL+"/") || f.SHA256 != pins[f.URL] {
			t.Errorf("fetched %+v: want pinned, not cached, from the mirror", f)
		}
	}
	// One request per download: the argo archive serves three entries.
	want := map[string]int{"/argo-workflows-3.7.3.tar.gz": 1, "/jobset-v0.10.1-manifests.yaml": 1}
	if !mapsEqual(srv.hits, want) {
		t.Errorf("mirror requests %v, want %v", srv.hits, want)
	}
	if refs, err := RemoteRefs(fs, filepath.Join(top, "example")); err != nil || len(refs) != 0 {
		t.Errorf("after Vendor, remote entries left: %q (%v)", refs, err)
	}
	checkKubeflow(t, fs, top, archive)

	fresh, _ := loadTree(t, archive)
	before := srv.total()
	again, err := r.Vendor(context.Background(), fresh, top, filepath.Join(top, "example"))
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.total() - before; n != 0 {
		t.Errorf("second Vendor with a warm cache made %d requests, want 0", n)
	}
	for _, f := range again {
		if !f.Cached || !f.Pinned {
			t.Errorf("second Vendor: %+v, want cached and pinned", f)
		}
	}
	if refs, err := RemoteRefs(fresh, filepath.Join(top, "example")); err != nil || len(refs) != 0 {
		t.Errorf("after the cached Vendor, remote entries left: %q (%v)", refs, err)
	}
}

// TestVendorKubeflowDirMirror vendors 26.03 from a mirror folder (which has no jobset v0.6.0: the
// unused overlays must not be fetched) and builds it.
func TestVendorKubeflowDirMirror(t *testing.T) {
	const archive = "kubeflow/manifests-26.03.tar.gz"
	fs, top := loadTree(t, archive)
	dir, pins := remoteFixtures(t)
	r := Remotes{Mirror: dir, CacheDir: t.TempDir(), Pins: pins}
	got, err := r.Vendor(context.Background(), fs, top, filepath.Join(top, "example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range got {
		if strings.Contains(f.Ref, "v0.6.0") || !f.Pinned || f.Cached || filepath.Dir(f.From) != dir {
			t.Errorf("fetched %+v: want only reached entries, pinned, read from the mirror folder", f)
		}
	}
	if len(got) != 4 {
		t.Errorf("fetched %d entries, want 4", len(got))
	}
	if entries, _ := os.ReadDir(r.CacheDir); len(entries) != 0 {
		t.Errorf("a mirror folder is read directly, but the cache holds %d files", len(entries))
	}
	checkKubeflow(t, fs, top, archive)
}

// githubAt sends requests for github.com to a test server on 127.0.0.1 (and refuses any other
// host), so that the real download URLs are exercised without leaving the machine.
type githubAt string

func (h githubAt) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "github.com" {
		return nil, fmt.Errorf("test: unexpected host %s", r.URL.Host)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", string(h), string(h)
	return http.DefaultTransport.RoundTrip(r)
}

// TestVendorGitHubURLs fetches the trainer's data-cache overlay of v1.11.0 by the real GitHub
// URLs (the lws tag archive for the "//" git form, the jobset release asset), pinned, and builds it.
func TestVendorGitHubURLs(t *testing.T) {
	fs, top := loadTree(t, "kubeflow/manifests-1.11.0.tar.gz")
	dir, pins := remoteFixtures(t)
	files := map[string]string{
		"/kubernetes-sigs/lws/archive/refs/tags/v0.7.0.tar.gz":             "lws-0.7.0.tar.gz",
		"/kubernetes-sigs/jobset/releases/download/v0.10.1/manifests.yaml": "jobset-v0.10.1-manifests.yaml",
	}
	srv := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := files[r.URL.Path]; ok {
			http.ServeFile(w, r, filepath.Join(dir, name))
			return
		}
		http.NotFound(w, r)
	}))
	r := Remotes{HTTP: &http.Client{Transport: githubAt(srv.Listener.Addr().String())}, Pins: pins}
	overlay := filepath.Join(top, "applications/trainer/upstream/overlays/data-cache")
	got, err := r.Vendor(context.Background(), fs, top, overlay)
	if err != nil {
		t.Fatal(err)
	}
	refs := []string{}
	for _, f := range got {
		refs = append(refs, f.Ref)
		if !f.Pinned || f.From != f.URL {
			t.Errorf("fetched %+v: want pinned and downloaded from its GitHub URL", f)
		}
	}
	if slices.Sort(refs); !slices.Equal(refs, []string{jobsetFile, lwsBase}) {
		t.Errorf("fetched %q, want the jobset and lws entries", refs)
	}
	want := map[string]int{}
	for p := range files {
		want[p] = 1
	}
	if !mapsEqual(srv.hits, want) {
		t.Errorf("requests %v, want %v", srv.hits, want)
	}
	checkBuild(t, fs, overlay, 0, "leaderworkersets.leaderworkerset.x-k8s.io", "jobsets.jobset.x-k8s.io")
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
