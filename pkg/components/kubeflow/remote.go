package kubeflow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kustomize"
)

// remotes is how s fetches the remote kustomize bases of p's manifests: from the mirror when one
// is set, verified against the profile's pins, cached in the cache dir's "remote" folder (no
// cache when there is no cache dir; a mirror folder is read directly).
func (s Source) remotes(p Profile) kustomize.Remotes {
	r := kustomize.Remotes{Mirror: s.RemoteBasesMirror, HTTP: s.HTTP, Pins: p.RemotePins,
		Logf: func(format string, args ...any) { s.Progress.Logf("kubeflow: "+format, args...) }}
	if dir, err := s.cacheDir(); err == nil {
		r.CacheDir = filepath.Join(dir, "remote")
	}
	return r
}

// vendor makes the remote bases reachable from the profile's kustomization local in the tree
// (under its top folder's .remote), so that the build needs no network, and returns what it
// fetched with one report line each.
func (s Source) vendor(ctx context.Context, t *Tree, p Profile) ([]kustomize.Fetched, []Edit, error) {
	fetched, err := s.remotes(p).Vendor(ctx, t.FS, t.Top, t.Path(p.Build))
	if err != nil {
		return nil, nil, fmt.Errorf("kubeflow %s: %w", p.Version, err)
	}
	edits := make([]Edit, 0, len(fetched))
	for _, f := range fetched {
		edits = append(edits, Edit{File: "(remote base)", What: fetchedLine(f)})
	}
	return fetched, edits, nil
}

// fetchedLine is the report's line for one remote base.
func fetchedLine(f kustomize.Fetched) string {
	pinned := "pinned"
	if !f.Pinned {
		pinned = "NOT pinned: no digest is known for it, used unverified"
	}
	from := f.From
	if f.Cached {
		from += " (cached)"
	}
	return fmt.Sprintf("remote base %s from %s sha256 %s (%s)", f.Ref, from, f.SHA256, pinned)
}

// remoteKey is what the remote bases add to the build cache key: the mirror setting, and for a
// mirror folder a digest of its files' names, sizes and mtimes. The pins are in the profile,
// which is part of the key, and a pinned base's bytes are fixed by its pin. An unpinned one (the
// jobset release asset) is not hashed: from GitHub or an http(s) mirror it is downloaded once into
// the remote cache, beside the build cache, and a rebuild reads that same copy (fetching it to
// compare would cost the download the cache saves); from a mirror folder it is read on every
// build, so a file replaced there changes the folder digest and misses the cache.
func (s Source) remoteKey() (string, error) {
	m := s.RemoteBasesMirror
	if m == "" || strings.HasPrefix(m, "http://") || strings.HasPrefix(m, "https://") {
		return m, nil
	}
	abs, err := filepath.Abs(m)
	if err != nil {
		return "", err
	}
	digest, err := folderDigest(abs)
	if err != nil && !os.IsNotExist(err) {
		return "", err
	}
	return abs + "@" + digest, nil
}
