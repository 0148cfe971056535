package kubeflow

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "builds", "*.cbor.gz"))
	return files
}

func objectsJSON(t *testing.T, b *Built) []byte {
	t.Helper()
	data, err := json.Marshal(b.Objects)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBuildCache(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the Kubeflow manifests seven times (about 35 s); runs in make test")
	}
	p, err := ProfileFor("v1.10.2")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := Source{Manifests: testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz"), CacheDir: dir}
	const secret = "gh-client-secret-must-not-be-cached-0xC0FFEE"
	edits := Edits{IngressServiceType: "LoadBalancer", GitHub: &GitHub{ClientID: "ID", Org: "ORG", RedirectURI: "https://kf.example.com/dex/callback", ClientSecret: []byte(secret)}}
	ctx := context.Background()

	first, err := Build(ctx, p, src, edits)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(first.Origin, "build cached") || len(cacheEntries(t, dir)) != 1 {
		t.Fatalf("first build: origin %q, %d entries; want a fresh build and one entry", first.Origin, len(cacheEntries(t, dir)))
	}
	t.Run("hit: the same objects and edits, without building", func(t *testing.T) {
		other := edits
		other.GitHub = &GitHub{ClientID: "ID", Org: "ORG", RedirectURI: "https://kf.example.com/dex/callback", ClientSecret: []byte("another secret")}
		b, err := Build(ctx, p, src, other) // the secret is no input of the build
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(b.Origin, "(build cached)") || !bytes.Equal(objectsJSON(t, b), objectsJSON(t, first)) || len(b.Edits) != len(first.Edits) {
			t.Fatalf("origin %q, %d edits: want the cached build, equal to the first", b.Origin, len(b.Edits))
		}
	})
	t.Run("lazy: the CRDs' schemas stay encoded until completed, whole then", func(t *testing.T) {
		s := src
		s.LazySchemas = true
		b, err := Build(ctx, p, s, edits)
		if err != nil || !strings.HasSuffix(b.Origin, "(build cached)") {
			t.Fatalf("origin %q (%v): want the cached build", b.Origin, err)
		}
		placeholders := 0
		for i, o := range b.Objects {
			whole, _ := json.Marshal(first.Objects[i])
			if lazy, _ := json.Marshal(o); bytes.Equal(lazy, whole) {
				continue
			}
			placeholders++
			if o.GetKind() != "CustomResourceDefinition" || !strings.Contains(string(must(json.Marshal(o))), "flexigrobots-schema-digest") {
				t.Fatalf("%s differs from the first build without a schema placeholder", kube.Ref(o))
			}
			// Completed on a copy sharing its values (as the apply's prepared copies are): the
			// copy is whole, the build's object keeps its placeholders.
			c := &unstructured.Unstructured{Object: maps.Clone(o.Object)}
			if err := b.Complete(c); err != nil {
				t.Fatal(err)
			}
			if got, _ := json.Marshal(c); !bytes.Equal(got, whole) {
				t.Fatalf("%s completed differs from the first build's", kube.Ref(o))
			}
			if again, _ := json.Marshal(o); bytes.Equal(again, whole) {
				t.Fatalf("completing a copy of %s changed the build's object", kube.Ref(o))
			}
		}
		if placeholders < 20 {
			t.Fatalf("%d objects hold schema placeholders; want every CRD of v1.10.2", placeholders)
		}
		if err := b.CompleteAll(); err != nil || !bytes.Equal(objectsJSON(t, b), objectsJSON(t, first)) {
			t.Fatalf("CompleteAll (%v): want the objects of the first build", err)
		}
		corrupt, _ := Build(ctx, p, s, edits)
		data, err := os.ReadFile(corrupt.schemas.path)
		if err != nil {
			t.Fatal(err)
		}
		at := len(data)/2 + bytes.Index(data[len(data)/2:], []byte("type"))
		data[at] = 'T' // a key of some schema ("Type")
		if err := os.WriteFile(corrupt.schemas.path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := corrupt.CompleteAll(); err == nil || !strings.Contains(err.Error(), "run again to build anew") {
			t.Fatalf("a schema that does not match its digest: %v; want an error saying the entry is removed", err)
		}
		if b, err := Build(ctx, p, s, edits); err != nil || strings.Contains(b.Origin, "build cached") || b.CompleteAll() != nil || !bytes.Equal(objectsJSON(t, b), objectsJSON(t, first)) {
			t.Fatalf("after a corrupt schema: origin %q (%v); want a fresh build equal to the first", b.Origin, err)
		}
	})
	t.Run("no secret value in the cache folder", func(t *testing.T) {
		for _, f := range cacheEntries(t, dir) {
			raw, _ := os.ReadFile(f)
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			text, _ := io.ReadAll(zr)
			if bytes.Contains(text, []byte(secret)) || bytes.Contains(raw, []byte(secret)) {
				t.Fatalf("%s holds the GitHub client secret", f)
			}
		}
	})
	t.Run("an edit changed misses", func(t *testing.T) {
		e := edits
		e.RegistrationFlow = true
		b, err := Build(ctx, p, src, e)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.Origin, "build cached") || len(cacheEntries(t, dir)) != 2 {
			t.Fatalf("origin %q, %d entries: want a new build and a second entry", b.Origin, len(cacheEntries(t, dir)))
		}
	})
	t.Run("other manifests content misses", func(t *testing.T) {
		s := src
		s.Manifests = recompressed(t, src.Manifests) // the same files, another archive
		before := len(cacheEntries(t, dir))
		b, err := Build(ctx, p, s, edits)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.Origin, "build cached") || len(cacheEntries(t, dir)) != before+1 {
			t.Fatalf("origin %q, %d entries: want a new build and one more entry", b.Origin, len(cacheEntries(t, dir)))
		}
	})
	t.Run("a corrupt entry is rebuilt", func(t *testing.T) {
		for _, f := range cacheEntries(t, dir) {
			raw, _ := os.ReadFile(f)
			if err := os.WriteFile(f, raw[:len(raw)/2], 0o600); err != nil {
				t.Fatal(err)
			}
		}
		b, err := Build(ctx, p, src, edits)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.Origin, "build cached") || !bytes.Equal(objectsJSON(t, b), objectsJSON(t, first)) {
			t.Fatalf("origin %q: want a fresh build equal to the first", b.Origin)
		}
		if b, _ := Build(ctx, p, src, edits); !strings.HasSuffix(b.Origin, "(build cached)") {
			t.Fatal("the rebuilt entry was not written back")
		}
	})
	t.Run("--no-cache builds", func(t *testing.T) {
		s := src
		s.NoBuildCache = true
		b, err := Build(ctx, p, s, edits)
		if err != nil || strings.Contains(b.Origin, "build cached") {
			t.Fatalf("origin %q (%v): want a fresh build", b.Origin, err)
		}
	})
	t.Run("two concurrent first runs both succeed", func(t *testing.T) {
		s := src
		s.CacheDir = t.TempDir()
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = Build(ctx, p, s, edits)
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("concurrent builds: %v, %v", errs[0], errs[1])
		}
		if b, err := Build(ctx, p, s, edits); err != nil || !strings.HasSuffix(b.Origin, "(build cached)") {
			t.Fatalf("after concurrent runs: origin %q (%v), want a usable entry", b.Origin, err)
		}
	})
}

// TestBuildKeyFollowsRemoteBases: the key changes with the remote-bases mirror, with a file
// added to or changed in a mirror folder (unpinned bases are read from it on every build) and
// with the pins; it stays when nothing changed.
func TestBuildKeyFollowsRemoteBases(t *testing.T) {
	p, err := ProfileFor("26.03")
	if err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	if err := os.WriteFile(filepath.Join(mirror, "jobset-v0.10.1-manifests.yaml"), []byte("kind: List\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := Source{Manifests: testbed.Fixture(t, "kubeflow/manifests-26.03.tar.gz"), CacheDir: t.TempDir()}
	key := func(s Source, p Profile) string {
		t.Helper()
		k, _ := s.buildKey(p, Edits{})
		if k == "" {
			t.Fatal("no key")
		}
		return k
	}
	github := key(src, p)
	withMirror := src
	withMirror.RemoteBasesMirror = mirror
	inFolder := key(withMirror, p)
	httpMirror := src
	httpMirror.RemoteBasesMirror = "http://127.0.0.1:1/mirror"
	if github == inFolder || github == key(httpMirror, p) || inFolder == key(httpMirror, p) {
		t.Fatal("the mirror is not part of the key")
	}
	if key(withMirror, p) != inFolder || key(src, p) != github {
		t.Fatal("the same inputs give another key")
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(filepath.Join(mirror, "jobset-v0.10.1-manifests.yaml"), later, later); err != nil {
		t.Fatal(err)
	}
	if key(withMirror, p) == inFolder {
		t.Fatal("a file changed in the mirror folder keeps the key")
	}
	repinned := p
	repinned.RemotePins = map[string]string{"https://github.com/argoproj/argo-workflows/archive/refs/tags/v3.7.3.tar.gz": strings.Repeat("0", 64)}
	if key(src, repinned) == github {
		t.Fatal("the pins are not part of the key")
	}
}

func TestReadGzipTrustsNoTrailer(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("kubeflow "), 10000)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(content)
	zw.Close()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got, err := readGzip(write("good", zipped.Bytes())); err != nil || !bytes.Equal(got, content) {
		t.Fatalf("a whole entry: %d bytes, %v", len(got), err)
	}
	raw := zipped.Bytes()
	withTrailer := func(size uint32) []byte {
		b := bytes.Clone(raw)
		b[len(b)-4], b[len(b)-3], b[len(b)-2], b[len(b)-1] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
		return b
	}
	if _, err := readGzip(write("huge", withTrailer(1<<31))); err == nil || !strings.Contains(err.Error(), "not a build entry") {
		t.Errorf("a trailer asking for 2 GiB: %v, want a refusal before any allocation", err)
	}
	for name, data := range map[string][]byte{
		"short trailer": withTrailer(uint32(len(content) - 1)),
		"long trailer":  withTrailer(uint32(len(content) + 1)),
		"truncated":     raw[:len(raw)/2],
		"empty":         nil,
	} {
		if _, err := readGzip(write(strings.ReplaceAll(name, " ", "-"), data)); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
