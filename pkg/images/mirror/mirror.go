package mirror

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// What happened to one image.
const (
	Copied  = "copied"
	Present = "present"
	Failed  = "failed"
)

// Mirror copies images to To.
type Mirror struct {
	To Target
	// From, when set, is the OCI layout folder (or its FILE.tar) the images are read from (what
	// a mirror run with --to oci:DIR or FILE.tar wrote); otherwise they are pulled from their
	// registries.
	From string
	// Platform, when set, copies only that platform's image of a multi-platform tag. An image
	// pinned by digest is copied whole: its digest names the whole index.
	Platform *v1.Platform
	// Jobs is how many images are copied at once (at least 1).
	Jobs int
	// Source and Dest are the registry options (auth, transport) of each side.
	Source, Dest []remote.Option
	Progress     *output.Progress

	layoutMu sync.Mutex // an OCI layout's index.json takes one writer at a time
	label    string     // the target as results name it, when not To (a FILE.tar's folder)
}

// Result is what happened to one image.
type Result struct {
	Image  string `json:"image"`
	Target string `json:"target"`
	// Digest is what the target holds (an index's, or the platform's image's).
	Digest string `json:"digest,omitempty"`
	Action string `json:"action"`
	Error  string `json:"error,omitempty"`
}

// artifact is an image or an index, as written.
type artifact struct {
	img    v1.Image
	idx    v1.ImageIndex
	digest v1.Hash
}

// Run copies every image of refs (with From: every image of the layout; refs are ignored) and
// returns one result per image, in the order given. An image that fails does not stop the
// others; the error says how many failed.
func (m *Mirror) Run(ctx context.Context, refs []string) ([]Result, error) {
	if strings.HasSuffix(m.From, TarSuffix) || m.To.Archive != "" {
		return m.viaFolders(ctx, refs)
	}
	if m.From != "" {
		var err error
		if refs, err = LayoutRefs(m.From); err != nil {
			return nil, err
		}
	}
	srcs := make([]name.Reference, len(refs))
	seen := map[string]string{}
	for i, r := range refs {
		src, err := name.ParseReference(r)
		if err != nil {
			return nil, fmt.Errorf("mirror: %q is not an image reference: %w", r, err)
		}
		srcs[i] = src
		if m.To.Layout != "" {
			continue
		}
		dst, err := m.To.Map(src)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[dst.String()]; dup && other != r {
			return nil, fmt.Errorf("mirror: %s and %s would both be %s in %s: mirror them under different --to prefixes", other, r, dst, m.To)
		}
		seen[dst.String()] = r
	}
	if m.To.Layout != "" {
		if _, err := openLayout(m.To.Layout); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(srcs))
	var g errgroup.Group
	g.SetLimit(max(m.Jobs, 1))
	var mu sync.Mutex
	done := 0
	for i, src := range srcs {
		g.Go(func() error {
			res := m.one(ctx, refs[i], src)
			mu.Lock()
			results[i] = res
			done++
			line := fmt.Sprintf("mirror: [%d/%d] %s -> %s: %s", done, len(srcs), res.Image, res.Target, res.Action)
			if res.Error != "" {
				line += ": " + res.Error
			}
			m.Progress.Logf("%s", line)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	failed := 0
	for _, r := range results {
		if r.Action == Failed {
			failed++
		}
	}
	if failed > 0 {
		return results, fmt.Errorf("mirror: %s of %d failed (each named above); re-run to retry them: what was copied is skipped", output.Count(failed, "image"), len(results))
	}
	return results, ctx.Err()
}

// viaFolders runs m with its tar files unpacked into folders: --from FILE.tar is read from its
// folder; --to FILE.tar is unpacked first (what it holds is skipped) and packed again after the
// run, also when images failed, so that a re-run resumes.
func (m *Mirror) viaFolders(ctx context.Context, refs []string) ([]Result, error) {
	inner := &Mirror{To: m.To, From: m.From, Platform: m.Platform, Jobs: m.Jobs, Source: m.Source, Dest: m.Dest, Progress: m.Progress}
	if strings.HasSuffix(m.From, TarSuffix) {
		dir, err := os.MkdirTemp("", "flexigrobots-images-from-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		if _, err := os.Stat(m.From); err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		if err := unpack(m.From, dir); err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		inner.From = dir
	}
	if m.To.Archive == "" {
		return inner.Run(ctx, refs)
	}
	dir, err := os.MkdirTemp(filepath.Dir(m.To.Archive), ".flexigrobots-images-")
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := unpack(m.To.Archive, dir); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	inner.To, inner.label = Target{Layout: dir}, m.To.Archive
	results, err := inner.Run(ctx, refs)
	if _, serr := os.Stat(filepath.Join(dir, "index.json")); serr == nil {
		if perr := pack(dir, m.To.Archive); perr != nil && err == nil {
			err = fmt.Errorf("mirror: write %s: %w", m.To.Archive, perr)
		}
	}
	return results, err
}

// one copies one image.
func (m *Mirror) one(ctx context.Context, ref string, src name.Reference) Result {
	res := Result{Image: ref, Target: m.To.String()}
	if m.label != "" {
		res.Target = m.label
	}
	fail := func(err error) Result {
		res.Action, res.Error = Failed, err.Error()
		return res
	}
	var dst name.Reference
	if m.To.Layout == "" {
		var err error
		if dst, err = m.To.Map(src); err != nil {
			return fail(err)
		}
		res.Target = dst.String()
	}
	a, err := m.read(ctx, ref, src)
	if err != nil {
		return fail(err)
	}
	res.Digest = a.digest.String()
	if m.To.Layout != "" {
		return m.toLayout(ref, a, res)
	}
	if head, err := remote.Head(dst, m.dest(ctx)...); err == nil && head.Digest == a.digest {
		res.Action = Present
		return res
	}
	if a.idx != nil {
		err = remote.WriteIndex(dst, a.idx, m.dest(ctx)...)
	} else {
		err = remote.Write(dst, a.img, m.dest(ctx)...)
	}
	if err != nil {
		return fail(fmt.Errorf("push: %w", err))
	}
	res.Action = Copied
	return res
}

// read opens the image (or index) of ref at its source: the layout of From, or its registry.
func (m *Mirror) read(ctx context.Context, ref string, src name.Reference) (artifact, error) {
	if m.From != "" {
		return layoutArtifact(m.From, ref)
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, m.Source...)
	desc, err := remote.Get(src, opts...)
	if err != nil {
		return artifact{}, fmt.Errorf("pull: %w", err)
	}
	_, byDigest := src.(name.Digest)
	if desc.MediaType.IsIndex() && (m.Platform == nil || byDigest) {
		idx, err := desc.ImageIndex()
		if err != nil {
			return artifact{}, fmt.Errorf("pull: %w", err)
		}
		return artifact{idx: idx, digest: desc.Digest}, nil
	}
	if m.Platform != nil {
		opts = append(opts, remote.WithPlatform(*m.Platform))
		if desc, err = remote.Get(src, opts...); err != nil {
			return artifact{}, fmt.Errorf("pull: %w", err)
		}
	}
	img, err := desc.Image()
	if err != nil {
		return artifact{}, fmt.Errorf("pull: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return artifact{}, fmt.Errorf("pull: %w", err)
	}
	return artifact{img: img, digest: d}, nil
}

// dest are the destination's options, bound to ctx.
func (m *Mirror) dest(ctx context.Context) []remote.Option {
	return append([]remote.Option{remote.WithContext(ctx)}, m.Dest...)
}

// toLayout writes a into the layout To under ref's annotation, replacing an older one of ref.
func (m *Mirror) toLayout(ref string, a artifact, res Result) Result {
	m.layoutMu.Lock()
	defer m.layoutMu.Unlock()
	p, err := openLayout(m.To.Layout)
	if err == nil {
		if have, _ := layoutArtifact(m.To.Layout, ref); have.digest == a.digest {
			res.Action = Present
			return res
		}
		opt := layout.WithAnnotations(map[string]string{RefAnnotation: ref})
		if a.idx != nil {
			err = p.ReplaceIndex(a.idx, match.Annotation(RefAnnotation, ref), opt)
		} else {
			err = p.ReplaceImage(a.img, match.Annotation(RefAnnotation, ref), opt)
		}
	}
	if err != nil {
		res.Action, res.Error = Failed, fmt.Sprintf("write %s: %v", m.To, err)
		return res
	}
	res.Action = Copied
	return res
}

// openLayout opens the OCI layout folder dir, creating an empty one when dir does not exist.
func openLayout(dir string) (layout.Path, error) {
	p, err := layout.FromPath(dir)
	if err == nil {
		return p, nil
	}
	if entries, rerr := os.ReadDir(dir); rerr == nil && len(entries) > 0 {
		return "", fmt.Errorf("mirror: %s is not an OCI image layout (%v): give an empty or new folder", dir, err)
	}
	return layout.Write(dir, empty.Index)
}

// LayoutRefs are the source references of the images an OCI layout folder holds, in order.
func LayoutRefs(dir string) ([]string, error) {
	_, idx, err := layoutIndex(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range idx.Manifests {
		if r := d.Annotations[RefAnnotation]; r != "" {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("mirror: %s holds no image written by `images mirror --to oci:DIR`", dir)
	}
	return out, nil
}

func layoutIndex(dir string) (v1.ImageIndex, *v1.IndexManifest, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("mirror: %s is not an OCI image layout: %w", dir, err)
	}
	ii, err := p.ImageIndex()
	if err != nil {
		return nil, nil, fmt.Errorf("mirror: %s: %w", dir, err)
	}
	m, err := ii.IndexManifest()
	return ii, m, err
}

// layoutArtifact is the image or index of ref in the layout folder dir.
func layoutArtifact(dir, ref string) (artifact, error) {
	ii, idx, err := layoutIndex(dir)
	if err != nil {
		return artifact{}, err
	}
	for _, d := range idx.Manifests {
		if d.Annotations[RefAnnotation] != ref {
			continue
		}
		if d.MediaType.IsIndex() {
			child, err := ii.ImageIndex(d.Digest)
			return artifact{idx: child, digest: d.Digest}, err
		}
		img, err := ii.Image(d.Digest)
		return artifact{img: img, digest: d.Digest}, err
	}
	return artifact{}, errors.New("not in " + OCIPrefix + dir)
}
