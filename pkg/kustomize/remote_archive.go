package kustomize

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// memFSName is a slash path kustomize's in-memory file system accepts.
var memFSName = regexp.MustCompile(`^[a-zA-Z0-9_.:/-]+$`)

// maxExtractBytes bounds what one archive may unpack to (a guard against gzip bombs).
const maxExtractBytes = 4 << 30

// ArchiveTop returns the name of the top folder of the .tar.gz held in data: the folder of its
// first entry (GitHub tag archives start with it, after a pax header). ExtractTarGzFS checks that
// every other entry is in it.
func ArchiveTop(data []byte) (string, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not a gzip archive: %w", err)
	}
	_, name, err := nextEntry(tar.NewReader(gz))
	if err == io.EOF {
		return "", fmt.Errorf("empty archive")
	}
	if err != nil {
		return "", err
	}
	top, _, _ := strings.Cut(name, "/")
	return top, nil
}

// nextEntry reads the archive's next entry that names a file or folder (pax headers and "."
// skipped) and its cleaned name; io.EOF at the end.
func nextEntry(tr *tar.Reader) (*tar.Header, string, error) {
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, "", err
		}
		if err != nil {
			return nil, "", fmt.Errorf("truncated or corrupt archive: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader || h.Typeflag == tar.TypeXHeader {
			continue
		}
		name, err := archiveName(h.Name)
		if err != nil {
			return nil, "", err
		}
		if name != "." {
			return h, name, nil
		}
	}
}

// ExtractTarGzFS unpacks a .tar.gz held in data into dest on fs, without its single top folder
// (GitHub archives have one, e.g. argo-workflows-3.7.3/), and returns that folder's name. Entries
// that would leave the archive, a second top folder or a truncated archive are errors. Symbolic and
// hard links to regular files inside the archive become copies; other links are skipped, and so are
// entries whose names fs refuses (the in-memory one takes only [A-Za-z0-9._:-] in names).
func ExtractTarGzFS(data []byte, fs filesys.FileSystem, dest string) (string, error) {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("not a gzip archive: %w", err)
	}
	type link struct{ name, target string }
	var (
		links []link
		top   string
		total int64
		files = map[string]bool{}
	)
	tr := tar.NewReader(gz)
	for {
		h, name, err := nextEntry(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		first, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return "", fmt.Errorf("archive has more than one top folder (%s and %s)", top, first)
		}
		if rest == "" {
			if h.Typeflag != tar.TypeDir {
				return "", fmt.Errorf("archive has a file %s at its top, not one top folder", h.Name)
			}
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(rest))
		switch h.Typeflag {
		case tar.TypeDir:
			err = fs.MkdirAll(target)
		case tar.TypeReg:
			if total += h.Size; total > maxExtractBytes {
				return "", fmt.Errorf("archive unpacks to more than %d bytes", int64(maxExtractBytes))
			}
			var b []byte
			if b, err = io.ReadAll(tr); err != nil {
				return "", fmt.Errorf("truncated or corrupt archive: %w", err)
			}
			if err = fs.MkdirAll(filepath.Dir(target)); err == nil {
				err = fs.WriteFile(target, b)
			}
			files[rest] = err == nil
		case tar.TypeSymlink:
			if !path.IsAbs(h.Linkname) {
				links = append(links, link{rest, path.Join(path.Dir(rest), h.Linkname)})
			}
		case tar.TypeLink:
			if ln, lerr := archiveName(h.Linkname); lerr == nil {
				if f, r, _ := strings.Cut(ln, "/"); f == top {
					links = append(links, link{rest, r})
				}
			}
		}
		if err != nil && !memFSName.MatchString(rest) {
			err = nil // a name the in-memory file system refuses (e.g. a space): no kustomization can use it there
		}
		if err != nil {
			return "", err
		}
	}
	// gzip checks its CRC only when read to the end: drain what tar left.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return "", fmt.Errorf("truncated or corrupt archive: %w", err)
	}
	if top == "" {
		return "", fmt.Errorf("empty archive")
	}
	// Resolve links to regular files (links to links too), never outside the archive.
	for progress := true; progress; {
		progress = false
		for i, l := range links {
			if l.name == "" || !files[l.target] || l.target == ".." || strings.HasPrefix(l.target, "../") {
				continue
			}
			b, err := fs.ReadFile(filepath.Join(dest, filepath.FromSlash(l.target)))
			if err != nil {
				return "", err
			}
			if err := fs.WriteFile(filepath.Join(dest, filepath.FromSlash(l.name)), b); err != nil {
				return "", err
			}
			files[l.name], links[i].name, progress = true, "", true
		}
	}
	return top, nil
}

// archiveName cleans an archive entry name, refusing absolute names and names that leave it.
func archiveName(n string) (string, error) {
	n = strings.ReplaceAll(n, "\\", "/")
	c := path.Clean(n)
	if path.IsAbs(n) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("archive entry %q escapes the archive", n)
	}
	return c, nil
}
