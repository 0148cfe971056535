package mirror

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// upstream is a plain registry on loopback seeded with a two-platform index (by tag and by
// digest) and a single image; it returns their references and the amd64 image's digest.
func upstream(t *testing.T) (refs []string, amd64 v1.Hash) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(nopLogger())))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := random.Image(256, 2)
		if err != nil {
			t.Fatal(err)
		}
		if arch == "amd64" {
			amd64, _ = img.Digest()
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	multi := host + "/kubeflow/kfp-driver:2.16.0"
	push(t, multi, idx)
	d, _ := idx.Digest()
	pinned := host + "/knative/queue@" + d.String()
	push(t, host+"/knative/queue:pinned", idx)
	single := host + "/library/busybox:stable"
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	push(t, single, img)
	return []string{multi, pinned, single}, amd64
}

func push(t *testing.T, ref string, a any) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	switch x := a.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(r, x)
	case v1.Image:
		err = remote.Write(r, x)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// privateMirror is a registry with basic auth and TLS from its own CA, as a site's mirror;
// failOnce makes the first manifest upload of a repository path containing it fail.
func privateMirror(t *testing.T, failOnce string) (host string, access Access) {
	t.Helper()
	dir := t.TempDir()
	reg := registry.New(registry.Logger(nopLogger()))
	var failed atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "mirror" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="mirror"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if failOnce != "" && r.Method == http.MethodPut && strings.Contains(r.URL.Path, failOnce+"/manifests/") && failed.CompareAndSwap(false, true) {
			http.Error(w, "denied once", http.StatusForbidden)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "https://"), Access{Username: "mirror", PasswordFile: pw, CAFile: ca}
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func run(t *testing.T, m *Mirror, refs []string) ([]Result, error) {
	t.Helper()
	m.Progress = output.NewProgress(io.Discard)
	return m.Run(context.Background(), refs)
}

// sameDigests checks that each result's target holds its source's digest (results read from a
// layout come in the layout's order, the order the images were written).
func sameDigests(t *testing.T, res []Result, dest []remote.Option) {
	t.Helper()
	for _, r := range res {
		src, _ := name.ParseReference(r.Image)
		want, err := remote.Head(src)
		if err != nil {
			t.Fatal(err)
		}
		dst, _ := name.ParseReference(r.Target)
		if got, err := remote.Head(dst, dest...); err != nil || got.Digest != want.Digest || r.Digest != want.Digest.String() {
			t.Errorf("%s -> %s: %v, target has %v, result says %s, want %s", r.Image, r.Target, err, got, r.Digest, want.Digest)
		}
	}
}

func actions(rs []Result) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Action)
	}
	return strings.Join(out, ",")
}

func TestMirrorCopiesByDigestAndResumes(t *testing.T) {
	refs, _ := upstream(t)
	host, access := privateMirror(t, "kfp-driver")
	dest, err := access.Options()
	if err != nil {
		t.Fatal(err)
	}
	to, err := ParseTarget("--to", host+"/ai")
	if err != nil {
		t.Fatal(err)
	}
	m := &Mirror{To: to, Jobs: 3, Source: SourceOptions(), Dest: dest}

	// The mirror refuses the driver's manifest once: the others are copied, the run fails
	// naming it, and the next run copies only it.
	res, err := run(t, m, refs)
	if err == nil || actions(res) != "failed,copied,copied" || !strings.Contains(res[0].Error, "403") {
		t.Fatalf("first run: %v %+v", err, res)
	}
	res, err = run(t, m, refs)
	if err != nil || actions(res) != "copied,present,present" {
		t.Fatalf("resumed run: %v %+v", err, res)
	}
	res, err = run(t, m, refs)
	if err != nil || actions(res) != "present,present,present" {
		t.Fatalf("third run: %v %+v", err, res)
	}
	// What the mirror holds has the source's digest, under the source's path.
	sameDigests(t, res, dest)
	if res[0].Target != host+"/ai/kubeflow/kfp-driver:2.16.0" || !strings.HasPrefix(res[1].Target, host+"/ai/knative/queue@sha256:") {
		t.Errorf("targets: %s, %s", res[0].Target, res[1].Target)
	}

	// Without the mirror's credentials nothing is pushed.
	anon := &Mirror{To: to, Source: SourceOptions()}
	if res, err := run(t, anon, refs[2:]); err == nil || !strings.Contains(res[0].Error, "certificate") && !strings.Contains(res[0].Error, "401") {
		t.Errorf("without credentials: %v %+v", err, res)
	}
}

func TestMirrorOnePlatform(t *testing.T) {
	refs, amd64 := upstream(t)
	host, access := privateMirror(t, "")
	dest, _ := access.Options()
	to, _ := ParseTarget("--to", host)
	p, err := ParsePlatform("linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	res, err := run(t, &Mirror{To: to, Platform: p, Source: SourceOptions(), Dest: dest}, refs)
	if err != nil {
		t.Fatal(err)
	}
	// The tag gets the amd64 image; the digest-pinned index is copied whole (its digest must
	// resolve in the mirror).
	if res[0].Digest != amd64.String() {
		t.Errorf("tag with --platform: %s, want the amd64 image %s", res[0].Digest, amd64)
	}
	if !strings.HasSuffix(refs[1], res[1].Digest) {
		t.Errorf("digest-pinned: %s copied as %s", refs[1], res[1].Digest)
	}
}

func TestMirrorThroughALayoutFolder(t *testing.T) {
	refs, _ := upstream(t)
	dir := filepath.Join(t.TempDir(), "images")
	to, _ := ParseTarget("--to", OCIPrefix+dir)
	out := &Mirror{To: to, Jobs: 2, Source: SourceOptions()}
	if res, err := run(t, out, refs); err != nil || actions(res) != "copied,copied,copied" {
		t.Fatalf("to the folder: %v %+v", err, res)
	}
	if res, err := run(t, out, refs); err != nil || actions(res) != "present,present,present" {
		t.Fatalf("again: %v %+v", err, res)
	}
	host, access := privateMirror(t, "")
	dest, _ := access.Options()
	reg, _ := ParseTarget("--to", host+"/ai")
	in := &Mirror{To: reg, From: dir, Jobs: 2, Dest: dest}
	res, err := run(t, in, nil)
	if err != nil || actions(res) != "copied,copied,copied" {
		t.Fatalf("from the folder: %v %+v", err, res)
	}
	sameDigests(t, res, dest)
}

func TestParseTargetAndMap(t *testing.T) {
	for _, bad := range []string{"", "https://mirror.example", "mirror.example/ai:v1", "mirror.example/AI", "oci:", "mirror.example/a@sha256:00"} {
		if _, err := ParseTarget("--to", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	to, err := ParseTarget("--to", "mirror.example:5000/ai/platform/")
	if err != nil {
		t.Fatal(err)
	}
	for src, want := range map[string]string{
		"busybox:stable":                                    "mirror.example:5000/ai/platform/library/busybox:stable",
		"ghcr.io/kubeflow/kfp-driver:2.16.0":                "mirror.example:5000/ai/platform/kubeflow/kfp-driver:2.16.0",
		"ghcr.io/containerd/busybox":                        "mirror.example:5000/ai/platform/containerd/busybox:latest",
		"gcr.io/k/queue@sha256:" + strings.Repeat("ab", 32): "mirror.example:5000/ai/platform/k/queue@sha256:" + strings.Repeat("ab", 32),
	} {
		r, _ := name.ParseReference(src)
		got, err := to.Map(r)
		if err != nil || got.String() != want {
			t.Errorf("%s -> %v %v, want %s", src, got, err, want)
		}
	}
	m := &Mirror{To: to}
	if _, err := run(t, m, []string{"quay.io/a/b:1", "docker.io/a/b:1"}); err == nil || !strings.Contains(err.Error(), "would both be") {
		t.Errorf("two sources on one target name: %v", err)
	}
}

// TestSourceLoginFromTheDockerConfig: a registry that wants a login is reached with the
// credentials `docker login` wrote (DOCKER_CONFIG; the keychain both sides use without flags),
// and refused without them.
func TestSourceLoginFromTheDockerConfig(t *testing.T) {
	host, access := privateMirror(t, "")
	opts, err := access.Options()
	if err != nil {
		t.Fatal(err)
	}
	src := host + "/team/private:v1"
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := name.ParseReference(src)
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatal(err)
	}
	// The keychain of SourceOptions, with a transport that trusts this registry's CA (a fresh
	// process would take it from SSL_CERT_FILE, as the e2e test does).
	source, err := Access{CAFile: access.CAFile}.Options()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := `{"auths":{"` + host + `":{"username":"mirror","password":"s3cret"}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := ParseTarget("--to", OCIPrefix+filepath.Join(t.TempDir(), "out"))
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no login
	if res, err := run(t, &Mirror{To: out, Source: source}, []string{src}); err == nil || !strings.Contains(res[0].Error, "401") && !strings.Contains(res[0].Error, "UNAUTHORIZED") {
		t.Fatalf("without a login: %v %+v", err, res)
	}
	t.Setenv("DOCKER_CONFIG", dir)
	if res, err := run(t, &Mirror{To: out, Source: source}, []string{src}); err != nil || res[0].Action != Copied {
		t.Fatalf("with the docker config's login: %v %+v", err, res)
	}
}

// TestMirrorThroughATarFile: --to FILE.tar packs the layout into one file, a second run finds
// everything there, and --from FILE.tar pushes it into a registry.
func TestMirrorThroughATarFile(t *testing.T) {
	refs, _ := upstream(t)
	file := filepath.Join(t.TempDir(), "platform-images.tar")
	to, err := ParseTarget("--to", file)
	if err != nil || to.Archive != file {
		t.Fatalf("%+v %v", to, err)
	}
	out := &Mirror{To: to, Jobs: 2, Source: SourceOptions()}
	if res, err := run(t, out, refs); err != nil || actions(res) != "copied,copied,copied" || res[0].Target != file {
		t.Fatalf("to the file: %v %+v", err, res)
	}
	if res, err := run(t, out, refs); err != nil || actions(res) != "present,present,present" {
		t.Fatalf("again: %v %+v", err, res)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".flexigrobots-images-*")); len(leftovers) > 0 {
		t.Errorf("work folders left beside the file: %v", leftovers)
	}
	host, access := privateMirror(t, "")
	dest, _ := access.Options()
	reg, _ := ParseTarget("--to", host)
	res, err := run(t, &Mirror{To: reg, From: file, Dest: dest}, nil)
	if err != nil || actions(res) != "copied,copied,copied" {
		t.Fatalf("from the file: %v %+v", err, res)
	}
	sameDigests(t, res, dest)
}

// TestInsecureSkipTLSVerify: without the registry's CA the push fails on its certificate;
// --registry-insecure-skip-tls-verify pushes without checking it.
func TestInsecureSkipTLSVerify(t *testing.T) {
	refs, _ := upstream(t)
	host, access := privateMirror(t, "")
	to, _ := ParseTarget("--to", host)
	noCA := Access{Username: access.Username, PasswordFile: access.PasswordFile}
	dest, err := noCA.Options()
	if err != nil {
		t.Fatal(err)
	}
	if res, err := run(t, &Mirror{To: to, Source: SourceOptions(), Dest: dest}, refs[2:]); err == nil || !strings.Contains(res[0].Error, "certificate") {
		t.Fatalf("without the CA: %v %+v", err, res)
	}
	noCA.InsecureSkipTLSVerify = true
	if dest, err = noCA.Options(); err != nil {
		t.Fatal(err)
	}
	res, err := run(t, &Mirror{To: to, Source: SourceOptions(), Dest: dest}, refs[2:])
	if err != nil || res[0].Action != Copied {
		t.Fatalf("with --registry-insecure-skip-tls-verify: %v %+v", err, res)
	}
}
