package kustomize

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Remotes resolves the remote resources of a kustomize build without git or a kustomize binary.
//
// Git-style entries on github.com (https://github.com/ORG/REPO/PATH?ref=REF, also with "//" or
// ".git" before PATH, github.com/..., git@github.com:...) are fetched as GitHub's archive of REF:
// https://github.com/ORG/REPO/archive/refs/tags/REF.tar.gz (archive/REF.tar.gz for a full commit
// id). Plain https files (e.g. release assets) are fetched as they are. Git repositories on other
// hosts are refused: vendor them into the tree.
//
// A mirror holds the same files under flat names:
//   - archive of github.com/ORG/REPO at REF: "REPO-REF.tar.gz" with a leading "v" of REF dropped
//     (GitHub's own download name), e.g. argo-workflows-3.7.3.tar.gz for argoproj/argo-workflows
//     at v3.7.3;
//   - release asset github.com/ORG/REPO/releases/download/TAG/FILE: "REPO-TAG-FILE", e.g.
//     jobset-v0.10.1-manifests.yaml;
//   - any other https file: its base name.
type Remotes struct {
	// Mirror: "" fetches from GitHub (the real URLs); a local folder (files read from it) or an
	// http(s) base URL (GET base/NAME) holding the files under the flat names above serves
	// air-gapped sites.
	Mirror string
	// CacheDir holds verified downloads, keyed by the URL they came from, so that a different URL or
	// ref never collides; "" = no cache. A mirror folder is read directly, never cached.
	CacheDir string
	// HTTP is the client for downloads; nil: a client with a 10-minute timeout.
	HTTP *http.Client
	// Pins: sha256 (hex) per canonical download URL (the GitHub URL, before any mirroring). A
	// download whose digest differs is refused naming both digests and is not cached. URLs without a
	// pin are fetched unverified (callers say so in their report: Fetched.Pinned).
	Pins map[string]string
	// Logf reports progress; nil = silent.
	Logf func(format string, args ...any)

	retryWait time.Duration // first pause between download attempts (tests shorten it); 0 = 1s
}

// Fetched is one remote resource made local.
type Fetched struct {
	Ref    string // the entry as written in the kustomization
	URL    string // canonical download URL (the key of Remotes.Pins)
	From   string // where the bytes were read: the URL, the mirror URL or file, or the cache file
	SHA256 string // hex digest of the download
	Pinned bool   // a pin was given and matched
	Cached bool   // read from CacheDir
}

// Vendor walks the kustomizations reachable from dir in fs (resources, bases, components and crds
// entries; local folders are followed, http(s) and git URLs are remote), downloads each remote
// resource (see Remotes), verifies pins, writes them into fs under top+"/.remote/..." (archives as
// .remote/github.com/ORG/REPO/REF/, files as .remote/HOST/PATH) and rewrites the referencing
// kustomization entries to relative local paths, leaving the rest of those files byte for byte, so
// that BuildFS(fs, dir) needs no network. Remote bases referring to further remote bases are
// vendored too. Only what the build reaches is fetched. On error fs may be partly rewritten: give
// Vendor a copy (e.g. an in-memory tree).
func (r Remotes) Vendor(ctx context.Context, fs filesys.FileSystem, top, dir string) ([]Fetched, error) {
	v := &vendorRun{r: r, ctx: ctx, fs: fs, remoteDir: filepath.Join(top, ".remote"),
		done: map[string]vendored{}, seen: map[string]bool{}}
	w := &walker{fs: fs, visited: map[string]bool{}, onRemote: v.resolve}
	err := w.walk(dir)
	return v.out, err
}

// RemoteRefs lists the remote entries reachable from dir without fetching (for render, images and
// reporting), each once, in the order a build meets them. Entries inside remote bases are not
// known before they are fetched.
func RemoteRefs(fs filesys.FileSystem, dir string) ([]string, error) {
	var refs []string
	seen := map[string]bool{}
	w := &walker{fs: fs, visited: map[string]bool{}, onRemote: func(_, entry string) (string, string, error) {
		if !seen[entry] {
			seen[entry] = true
			refs = append(refs, entry)
		}
		return "", "", nil
	}}
	err := w.walk(dir)
	return refs, err
}

// vendored is a download installed in fs: the archive root or the file.
type vendored struct {
	loc     string
	fetched Fetched
}

// vendorRun is the state of one Vendor call.
type vendorRun struct {
	r         Remotes
	ctx       context.Context
	fs        filesys.FileSystem
	remoteDir string
	done      map[string]vendored // by canonical URL: each download happens once
	seen      map[string]bool     // entries already reported
	out       []Fetched
}

// resolve makes entry (found in the kustomization in kdir) local and returns the relative path
// that replaces it, and the folder to walk next for a base.
func (v *vendorRun) resolve(kdir, entry string) (string, string, error) {
	spec, err := parseRemote(entry)
	if err != nil {
		return "", "", err
	}
	got, err := v.materialize(spec)
	if err != nil {
		return "", "", err
	}
	target, follow := got.loc, ""
	if spec.Archive {
		target = filepath.Join(got.loc, filepath.FromSlash(spec.Path))
		if !v.fs.IsDir(target) {
			return "", "", fmt.Errorf("remote base %s: %s has no folder %q: check the path in the entry for %s",
				entry, spec.Name, spec.Path, spec.Ref)
		}
		follow = target
	}
	rel, err := filepath.Rel(kdir, target)
	if err != nil {
		return "", "", fmt.Errorf("remote base %s: %w", entry, err)
	}
	if !v.seen[entry] {
		v.seen[entry] = true
		f := got.fetched
		f.Ref = entry
		v.out = append(v.out, f)
	}
	return filepath.ToSlash(rel), follow, nil
}

// materialize obtains spec's download once per run and installs it in fs; a cached archive that
// does not unpack is dropped from the cache and fetched again.
func (v *vendorRun) materialize(spec remoteSpec) (vendored, error) {
	if got, ok := v.done[spec.URL]; ok {
		return got, nil
	}
	loc := filepath.Join(v.remoteDir, filepath.FromSlash(spec.Local))
	res, err := v.r.obtain(v.ctx, spec, true)
	if err != nil {
		return vendored{}, err
	}
	err = v.install(spec, res.data, loc)
	if err != nil && res.cached {
		v.r.logf("remote: cached %s is unusable (%v): removing it and downloading again", res.from, err)
		_ = os.Remove(res.from)
		if res, err = v.r.obtain(v.ctx, spec, false); err != nil {
			return vendored{}, err
		}
		err = v.install(spec, res.data, loc)
	}
	if err != nil {
		return vendored{}, fmt.Errorf("remote base %s: %s (from %s) is unusable: %v; replace it with the file from %s",
			spec.Entry, spec.Name, res.from, err, spec.URL)
	}
	if !res.pinned {
		v.r.logf("remote: %s is not pinned: using it unverified (sha256 %s)", spec.URL, res.sum)
	}
	got := vendored{loc: loc, fetched: Fetched{URL: spec.URL, From: res.from, SHA256: res.sum, Pinned: res.pinned, Cached: res.cached}}
	v.done[spec.URL] = got
	return got, nil
}

// install writes a download into fs at loc (an archive unpacked without its top folder).
func (v *vendorRun) install(spec remoteSpec, data []byte, loc string) error {
	if spec.Archive {
		if v.fs.Exists(loc) {
			if err := v.fs.RemoveAll(loc); err != nil {
				return err
			}
		}
		_, err := ExtractTarGzFS(data, v.fs, loc)
		return err
	}
	if err := v.fs.MkdirAll(filepath.Dir(loc)); err != nil {
		return err
	}
	return v.fs.WriteFile(loc, data)
}
