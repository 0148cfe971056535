package kubeflow

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/cachefile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kustomize"
)

// The build cache keeps the built, edited object set in the user cache dir (beside the
// downloaded archives), so a re-run with the same inputs skips reading, editing and building
// the manifests (about 5 s and 7 CPU-s of the 6 s no-op re-run on the test bed). An entry is
// keyed by everything that determines the build: the plugin binary (path, size and mtime: a
// rebuilt plugin misses), the version profile (with the remote bases' pins), the manifests'
// content (the archive's sha256; a folder's file names, sizes and mtimes), the remote-bases
// mirror (see remoteKey) and every edit. The GitHub client secret is not an
// input (the build never holds it: dex reads it from a Secret that converge creates), and
// neither is any other secret a user gives. The entry holds what the build holds: upstream's
// objects as edited, including the few Secrets upstream's manifests ship with their published
// values (dex's example password hash, katib's example MySQL credentials, the training
// operator's empty certificate placeholder), exactly as in the cached source archive beside it.
// Entries are written to a temp file and renamed (concurrent runs never see half an entry);
// an entry that does not decode (truncated, corrupt) or whose key differs is rebuilt.

// storedBuild is one entry, in CBOR (Kubernetes' own encoding of it: integers stay int64,
// floats float64, as the API machinery's JSON decode gives them); CBOR decodes in about half the
// time JSON takes, and the entry is read on every re-run.
type storedBuild struct {
	Key          string              `json:"key"`
	Origin       string              `json:"origin"`
	Edits        []Edit              `json:"edits"`
	OIDCProvider string              `json:"oidcProvider,omitempty"`
	WaitsForTLS  bool                `json:"waitsForTLS,omitempty"`
	Objects      []map[string]any    `json:"objects"`
	Owned        []string            `json:"owned,omitempty"`
	ExampleUser  bool                `json:"exampleUser,omitempty"`
	Remote       []kustomize.Fetched `json:"remote,omitempty"`
	// Schemas locate the CRDs' schemas, which the CRDs hold as placeholders, in the entry's
	// schemas file (see lazyschemas.go): digest -> offset and length.
	Schemas map[string][2]int64 `json:"schemas,omitempty"`
}

// buildKey is the cache key of building p from s with e, and the entry's file; "" when the
// inputs cannot be identified yet (nothing downloaded) or the cache is off.
func (s Source) buildKey(p Profile, e Edits) (key, file string) {
	if s.NoBuildCache {
		return "", ""
	}
	dir, err := s.cacheDir()
	if err != nil {
		return "", ""
	}
	src, err := s.contentDigest(dir, p)
	if err != nil || src == "" {
		return "", ""
	}
	exe, err := executableStamp()
	if err != nil {
		return "", ""
	}
	remote, err := s.remoteKey()
	if err != nil {
		return "", ""
	}
	e.GitHub = githubWithoutSecret(e.GitHub)
	in, err := json.Marshal(struct {
		Format, Exe, Source, Remote string
		Profile                     Profile
		Edits                       Edits
	}{"kubeflow-build/5", exe, src, remote, p, e})
	if err != nil {
		return "", ""
	}
	sum := sha256.Sum256(in)
	key = hex.EncodeToString(sum[:])
	return key, filepath.Join(dir, "builds", key[:32]+".cbor.gz")
}

// contentDigest identifies the manifests' content: the sha256 of the archive (the cached
// download or the local file), or for a folder a digest of its file names, sizes and mtimes.
func (s Source) contentDigest(cacheDir string, p Profile) (string, error) {
	file := s.Manifests
	switch {
	case file == "":
		file = filepath.Join(cacheDir, p.Version+".tar.gz")
	case strings.HasPrefix(file, "http://") || strings.HasPrefix(file, "https://"):
		file = filepath.Join(cacheDir, downloadName(p, file))
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return fileSHA256(file)
	}
	return folderDigest(file)
}

// folderDigest is a digest of a folder's file names, sizes and mtimes (not their bytes: cheap,
// and any edit moves an mtime).
func folderDigest(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// executableStamp identifies the running plugin binary.
func executableStamp() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s:%d:%d", exe, st.Size(), st.ModTime().UnixNano()), nil
}

func githubWithoutSecret(g *GitHub) *GitHub {
	if g == nil {
		return nil
	}
	c := *g
	c.ClientSecret = nil
	return &c
}

// loadBuild returns the cached build under key, or false when there is none usable. With lazy,
// its CRDs keep their schemas as placeholders until Complete; without, they are whole.
func loadBuild(file, key string, p Profile, lazy bool) (*Built, bool) {
	data, err := readGzip(file)
	if err != nil {
		return nil, false
	}
	// One pass: the objects decode straight into maps (integers kept as int64, as the API
	// machinery decodes them), not once for the entry and again per object. The decode keeps
	// nearly all it allocates, so the collector is held off meanwhile: it would only mark the
	// growing heap of objects again at each doubling (a third of a no-op re-run's decode).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var c storedBuild
	if err := direct.Unmarshal(data, &c); err != nil || c.Key != key || len(c.Objects) == 0 {
		return nil, false
	}
	objs := make([]*unstructured.Unstructured, len(c.Objects))
	for i, o := range c.Objects {
		objs[i] = &unstructured.Unstructured{Object: o}
	}
	b := &Built{Profile: p, Origin: c.Origin + " (build cached)", Objects: objs, Edits: c.Edits,
		OIDCProvider: c.OIDCProvider, WaitsForTLS: c.WaitsForTLS, Owned: c.Owned, ExampleUser: c.ExampleUser, Remote: c.Remote}
	if len(c.Schemas) > 0 {
		b.schemas = &schemaFile{entry: file, path: schemasFile(file), index: c.Schemas}
	}
	if !lazy && b.CompleteAll() != nil {
		return nil, false
	}
	return b, true
}

// maxBuildEntry bounds what readGzip allocates from a trailer it has not yet checked (a build
// entry is about 5 MB; a corrupt trailer must not ask for gigabytes).
const maxBuildEntry = 256 << 20

// readGzip reads a gzip file whole into one buffer of the size its trailer gives (the size
// mod 2^32; an entry is a few MB), instead of growing a buffer by doublings, each zeroed and
// copied: that growth cost as much CPU as the decode's allocations. It reads to the end, where
// gzip checks the checksum, and fails when the content is longer than the trailer said.
func readGzip(file string) ([]byte, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if len(raw) < 4 {
		return nil, io.ErrUnexpectedEOF
	}
	size := binary.LittleEndian.Uint32(raw[len(raw)-4:])
	if size > maxBuildEntry {
		return nil, fmt.Errorf("%s: its gzip trailer says %d bytes: not a build entry", file, size)
	}
	gz, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(gz, data); err != nil {
		return nil, err
	}
	if n, err := gz.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		return nil, fmt.Errorf("%s: longer than its gzip trailer says, or corrupt", file)
	}
	return data, nil
}

// storeBuild writes b under key; a failure only costs the next run a build.
func storeBuild(file, key string, b *Built) error {
	c := storedBuild{Key: key, Origin: b.Origin, Edits: b.Edits, OIDCProvider: b.OIDCProvider, WaitsForTLS: b.WaitsForTLS, Owned: b.Owned, ExampleUser: b.ExampleUser, Remote: b.Remote}
	c.Objects = make([]map[string]any, len(b.Objects))
	c.Schemas = map[string][2]int64{}
	var schemas bytes.Buffer
	for i, o := range b.Objects {
		var err error
		if c.Objects[i], err = splitSchemas(o.Object, c.Schemas, &schemas); err != nil {
			return err
		}
	}
	// The schemas first: an entry found always finds its schemas (each is checked against its
	// digest when read, so a schemas file of another writer of the same key is fine too).
	if err := cachefile.Write(schemasFile(file), schemas.Bytes()); err != nil {
		return err
	}
	data, err := direct.Marshal(c)
	if err != nil {
		return err
	}
	var zipped bytes.Buffer
	gz := gzip.NewWriter(&zipped)
	if _, err := gz.Write(data); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	return cachefile.Write(file, zipped.Bytes())
}
