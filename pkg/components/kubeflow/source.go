package kubeflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kustomize"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Source says where the manifests come from and where downloads are cached.
type Source struct {
	// Manifests is --manifests: empty for the GitHub tag archive, or a local checkout folder, a
	// local .tar.gz, or an http(s) URL of a .tar.gz (a mirror for air-gapped sites).
	Manifests string
	// CacheDir holds downloads; empty means os.UserCacheDir()/kubectl-flexigrobots/kubeflow.
	CacheDir string
	// HTTP is the client for downloads (default: http.DefaultClient with a 5 minute timeout).
	HTTP *http.Client
	// Attempts bounds download tries (default 3).
	Attempts int
	// Progress reports downloads; nil is silent.
	Progress *output.Progress
	// NoBuildCache builds every time, neither reading nor writing the build cache (--no-cache;
	// see buildcache.go).
	NoBuildCache bool
	// LazySchemas leaves a cached build's CRD schemas encoded until Built.Complete decodes them
	// (the converge sends few CRDs, often none); without it a build's objects are whole.
	LazySchemas bool
	// RemoteBasesMirror serves the remote kustomize bases the manifests reference (v1.11.0 and
	// later): "" fetches them from GitHub; a local folder or an http(s) base URL holds them under
	// the flat names of kustomize.Remotes (air-gapped sites). Downloads are cached in the
	// subfolder "remote" of the cache dir.
	RemoteBasesMirror string
	// ManifestsMirror holds GitHub's tag archives of the releases under their tag names
	// (v1.10.2.tar.gz, 26.03.tar.gz): a local folder or an http(s) base URL, used instead of
	// GitHub when Manifests is empty and checked against the same pins (air-gapped sites, and
	// the releases an upgrade passes through).
	ManifestsMirror string
	// tagArchiveURL replaces the profile's DefaultURL (tests serve the tag archive locally).
	tagArchiveURL string
}

// Tree is the manifests in memory, ready to edit and build.
type Tree struct {
	FS filesys.FileSystem
	// Top is the tree's top folder in FS (absolute), e.g. /manifests-1.5.0.
	Top string
	// Origin says where it came from, for the report.
	Origin string
}

// Path is the absolute path in FS of a path relative to the top folder.
func (t *Tree) Path(rel string) string { return path.Join(t.Top, rel) }

// Load reads the profile's manifests into memory. A local path that is not usable is a usage
// error (exit 2); a cached or downloaded archive that is truncated or corrupt is removed and
// downloaded again, never used.
func (s Source) Load(ctx context.Context, p Profile) (*Tree, error) {
	spec := s.Manifests
	switch {
	case spec == "":
		url := p.DefaultURL()
		switch m := s.ManifestsMirror; {
		case s.tagArchiveURL != "":
			url = s.tagArchiveURL
		case strings.Contains(m, "://"):
			url = strings.TrimSuffix(m, "/") + "/" + p.Version + ".tar.gz"
		case m != "":
			return mirrored(filepath.Join(m, p.Version+".tar.gz"), p)
		}
		return s.download(ctx, p, url, p.Version+".tar.gz", p.Top, p.ArchiveSHA256)
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		return s.download(ctx, p, spec, downloadName(p, spec), "", "")
	}
	st, err := os.Stat(spec)
	if err != nil {
		return nil, core.UsageErrorf("--manifests %s: %v: give a kubeflow/manifests checkout folder, a .tar.gz of it, or an http(s) URL", spec, err)
	}
	var t *Tree
	if st.IsDir() {
		t, err = readDir(spec)
	} else {
		t, err = readArchive(spec)
	}
	if err == nil {
		err = t.check(p, "")
	}
	if err != nil {
		return nil, core.UsageErrorf("--manifests %s: %v", spec, err)
	}
	t.Origin = spec
	return t, nil
}

// mirrored reads the tag archive of p from a mirror folder, refusing one that is not the pinned
// archive (a usage error naming both digests).
func mirrored(file string, p Profile) (*Tree, error) {
	t, err := readArchive(file)
	if err == nil {
		err = t.check(p, p.Top)
	}
	if err == nil && p.ArchiveSHA256 != "" {
		err = matchPin(file, p.ArchiveSHA256, p)
	}
	if err != nil {
		return nil, core.UsageErrorf("--manifests-mirror: %s: %v", file, err)
	}
	t.Origin = file
	return t, nil
}

// downloadName is the cache file of an archive downloaded from url.
func downloadName(p Profile, url string) string {
	sum := sha256.Sum256([]byte(url))
	return p.Version + "-" + hex.EncodeToString(sum[:6]) + ".tar.gz"
}

// check verifies the tree has the profile's kustomization (and the expected top folder).
func (t *Tree) check(p Profile, wantTop string) error {
	if wantTop != "" && path.Base(t.Top) != wantTop {
		return fmt.Errorf("top folder is %q, want %q (is it the archive of kubeflow/manifests %s?)", path.Base(t.Top), wantTop, p.Version)
	}
	// A tag archive names its release (manifests-26.03): another release than the one picked
	// would get that release's edit paths, so say which --version fits it.
	if top := path.Base(t.Top); wantTop == "" && strings.HasPrefix(top, "manifests-") && top != p.Top {
		if other, err := ProfileFor(strings.TrimPrefix(top, "manifests-")); err == nil {
			return fmt.Errorf("these are the manifests of Kubeflow %s (top folder %s), not of %s: give --version %s (or manifests of %s)", other.Version, top, p.Version, other.Version, p.Version)
		}
	}
	if !t.FS.Exists(t.Path(path.Join(p.Build, "kustomization.yaml"))) {
		return fmt.Errorf("no %s/kustomization.yaml in it: is it kubeflow/manifests at %s?", p.Build, p.Version)
	}
	return nil
}

func (s Source) cacheDir() (string, error) {
	if s.CacheDir != "" {
		return s.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache dir (%v): set XDG_CACHE_HOME or use --manifests", err)
	}
	return filepath.Join(d, "kubectl-flexigrobots", "kubeflow"), nil
}

// download uses the cached archive when it reads to the end (and has the pinned sha256, when one
// is given), else fetches url into a temp file, verifies it and only then renames it into the
// cache. A download whose digest differs from the pin is an error naming both, not retried.
func (s Source) download(ctx context.Context, p Profile, url, name, wantTop, pin string) (*Tree, error) {
	dir, err := s.cacheDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cached := filepath.Join(dir, name)
	t, err := readArchive(cached)
	if err == nil {
		err = t.check(p, wantTop)
	}
	if err == nil && pin != "" {
		err = matchPin(cached, pin, p)
	}
	if err == nil {
		t.Origin = url + " (cached " + cached + ")"
		return t, nil
	} else if mismatch := (*pinMismatch)(nil); errors.As(err, &mismatch) {
		s.Progress.Logf("kubeflow: cached %s is not the pinned %s tag archive (sha256 %s): downloading again", cached, p.Version, mismatch.got)
		_ = os.Remove(cached)
	} else if !os.IsNotExist(err) {
		s.Progress.Logf("kubeflow: cached %s is unusable (%v): downloading again", cached, err)
		_ = os.Remove(cached)
	}
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var last error
	for i := 1; i <= attempts; i++ {
		if i > 1 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("download %s: %w (last error: %v)", url, ctx.Err(), last)
			case <-time.After(time.Duration(i) * time.Second):
			}
		}
		s.Progress.Update("kubeflow: downloading %s (attempt %d/%d)", url, i, attempts)
		var t *Tree
		if t, last = s.fetch(ctx, p, url, dir, cached, wantTop, pin); last == nil {
			s.Progress.Done()
			t.Origin = url
			return t, nil
		}
		var mismatch *pinMismatch
		if errors.As(last, &mismatch) {
			s.Progress.Done()
			return nil, fmt.Errorf("download %s: %w", url, last)
		}
		s.Progress.Logf("kubeflow: download %s failed: %v", url, last)
	}
	s.Progress.Done()
	return nil, fmt.Errorf("download %s failed %d times, last: %v (use --manifests with a local copy or a mirror URL)", url, attempts, last)
}

func (s Source) fetch(ctx context.Context, p Profile, url, dir, cached, wantTop, pin string) (*Tree, error) {
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	tmp, err := os.CreateTemp(dir, ".download-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	digest := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, digest), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	t, err := readArchive(tmp.Name())
	if got := hex.EncodeToString(digest.Sum(nil)); err == nil && pin != "" && got != pin {
		err = &pinMismatch{profile: p, got: got}
	}
	if err == nil {
		err = t.check(p, wantTop)
	}
	if err != nil {
		return nil, err
	}
	return t, os.Rename(tmp.Name(), cached)
}

// pinMismatch is a tag archive whose sha256 is not the pinned one.
type pinMismatch struct {
	profile Profile
	got     string
}

func (e *pinMismatch) Error() string {
	return fmt.Sprintf("its sha256 is %s, but kubeflow/manifests %s's tag archive is pinned at sha256 %s: "+
		"this is not the release's archive (rewritten on the way, or the tag moved), so nothing is built from it; "+
		"to use another copy as it is, give --manifests FILE.tar.gz|DIR|URL", e.got, e.profile.Version, e.profile.ArchiveSHA256)
}

// matchPin checks a cached tag archive against the profile's pinned sha256.
func matchPin(file, pin string, p Profile) error {
	got, err := fileSHA256(file)
	if err == nil && got != pin {
		err = &pinMismatch{profile: p, got: got}
	}
	return err
}

// fileSHA256 is the hex sha256 of a file's content.
func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readArchive reads a .tar.gz to the end into memory, under its top folder (/manifests-1.10.2);
// a truncated or corrupt archive fails.
func readArchive(file string) (*Tree, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	top, err := kustomize.ArchiveTop(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	mem := filesys.MakeFsInMemory()
	if _, err := kustomize.ExtractTarGzFS(data, mem, "/"+top); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Tree{FS: mem, Top: "/" + top}, nil
}

// readDir copies a local checkout into memory (without .git), so edits never touch it.
func readDir(dir string) (*Tree, error) {
	mem := filesys.MakeFsInMemory()
	top := "/" + filepath.Base(filepath.Clean(dir))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return mem.MkdirAll(path.Join(top, filepath.ToSlash(rel)))
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return mem.WriteFile(path.Join(top, filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, err
	}
	return &Tree{FS: mem, Top: top}, nil
}
