package kustomize

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ExtractTarGz unpacks a .tar.gz into dest, refusing entries that would escape it, and returns
// the single top-level folder when there is one (GitHub tag archives have `manifests-1.5.0/`).
func ExtractTarGz(archive, dest string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: not a gzip archive: %w", archive, err)
	}
	tr := tar.NewReader(gz)
	tops := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%s: truncated or corrupt archive: %w", archive, err)
		}
		name := filepath.Clean(h.Name)
		if name == "." || strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return "", fmt.Errorf("%s: entry %q escapes the archive", archive, h.Name)
		}
		if top, _, _ := strings.Cut(filepath.ToSlash(name), "/"); top != "pax_global_header" {
			tops[top] = true
		}
		target := filepath.Join(dest, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
			if err != nil {
				return "", err
			}
			if _, err := io.Copy(out, tr); err != nil {
				out.Close()
				return "", fmt.Errorf("%s: truncated or corrupt archive: %w", archive, err)
			}
			if err := out.Close(); err != nil {
				return "", err
			}
		case tar.TypeSymlink:
			// Kubeflow archives hold no links that a build needs; skip them rather than follow them.
		}
	}
	if len(tops) == 1 {
		for t := range tops {
			return filepath.Join(dest, t), nil
		}
	}
	return dest, nil
}
