// Package mirror copies the platform's images to a private registry or an OCI layout folder,
// and from such a folder into a registry, on go-containerregistry: by digest, all platforms or
// one, in parallel, skipping what the destination already holds (so an interrupted run resumes,
// and blobs already uploaded are not sent again).
//
// An image's name in the mirror is REGISTRY[/PREFIX]/ followed by its repository path without
// the source registry's host, as RKE2's system-default-registry names them:
// ghcr.io/kubeflow/kfp-driver:2.16.0 -> mirror.example/ai/kubeflow/kfp-driver:2.16.0, and
// busybox:stable (Docker Hub) -> mirror.example/ai/library/busybox:stable. Tags and digests are
// kept.
package mirror

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// OCIPrefix marks an OCI image layout folder in --to and --from.
const OCIPrefix = "oci:"

// RefAnnotation is the annotation of an image in an OCI layout that holds its source reference.
const RefAnnotation = "org.opencontainers.image.ref.name"

// Target is where images go (or, for --from, come from): a registry with an optional path
// prefix, an OCI layout folder, or an OCI layout in one tar file.
type Target struct {
	// Registry is host[:port], Prefix the path under it (may be empty).
	Registry, Prefix string
	// Layout is the OCI layout folder (oci:DIR).
	Layout string
	// Archive is the tar file of an OCI layout (FILE.tar).
	Archive string
}

// ParseTarget reads --to/--from: REGISTRY[/PREFIX], oci:DIR or FILE.tar (a value ending in .tar
// is a file). A bad value is a usage error.
func ParseTarget(flag, s string) (Target, error) {
	if strings.HasSuffix(s, TarSuffix) && !strings.HasPrefix(s, OCIPrefix) {
		return Target{Archive: s}, nil
	}
	if dir, ok := strings.CutPrefix(s, OCIPrefix); ok {
		if dir == "" {
			return Target{}, core.UsageErrorf("%s %q: give the folder, e.g. %s./platform-images", flag, s, OCIPrefix)
		}
		return Target{Layout: dir}, nil
	}
	s = strings.TrimSuffix(s, "/")
	host, prefix, _ := strings.Cut(s, "/")
	if s == "" || strings.Contains(s, "://") || strings.Contains(s, "@") || strings.Contains(prefix, ":") {
		return Target{}, core.UsageErrorf("%s %q: want REGISTRY[/PREFIX] (e.g. mirror.example:5000/ai: no scheme, no tag) or %sDIR", flag, s, OCIPrefix)
	}
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return Target{}, core.UsageErrorf("%s %q: %q is not a registry host: %v", flag, s, host, err)
	}
	if prefix != "" {
		if _, err := name.NewRepository(host+"/"+prefix, name.StrictValidation); err != nil {
			return Target{}, core.UsageErrorf("%s %q: %q is not a repository path: %v", flag, s, prefix, err)
		}
	}
	return Target{Registry: host, Prefix: prefix}, nil
}

// String is the target as given.
func (t Target) String() string {
	switch {
	case t.Archive != "":
		return t.Archive
	case t.Layout != "":
		return OCIPrefix + t.Layout
	case t.Prefix != "":
		return t.Registry + "/" + t.Prefix
	}
	return t.Registry
}

// Map is src's name in the registry target: its repository path without the source's host,
// under the target's registry and prefix, with src's tag or digest.
func (t Target) Map(src name.Reference) (name.Reference, error) {
	repo := src.Context().RepositoryStr()
	if t.Prefix != "" {
		repo = t.Prefix + "/" + repo
	}
	full := t.Registry + "/" + repo
	switch r := src.(type) {
	case name.Digest:
		return name.NewDigest(full + "@" + r.DigestStr())
	case name.Tag:
		return name.NewTag(full + ":" + r.TagStr())
	}
	return nil, fmt.Errorf("mirror: %s is neither a tag nor a digest", src)
}
