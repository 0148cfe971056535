package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// archive is one packed release archive.
type archive struct {
	platform
	Name   string   // file name in the output folder
	SHA256 string   // hex sha256 of the archive file
	Files  []string // entries, in archive order
}

// entry is one file of an archive: its name inside the archive, where it comes from, its mode.
type entry struct {
	name, src string
	mode      int64
}

// pack writes the archive of platform p around the plugin binary bin and returns its summary.
func pack(cfg *config, p platform, bin string) (archive, error) {
	entries := []entry{
		{p.binary(), bin, 0o755},
		{p.completionHelper(), filepath.Join(cfg.root, "hack", p.completionHelper()), 0o755},
		{"LICENSE", filepath.Join(cfg.root, "LICENSE"), 0o644},
		{"README.md", filepath.Join(cfg.root, "README.md"), 0o644},
	}
	a := archive{platform: p, Name: fmt.Sprintf("%s_%s_%s_%s", binName, cfg.version, p.OS, p.Arch)}
	for _, e := range entries {
		a.Files = append(a.Files, e.name)
	}
	write := writeTarGz
	if p.OS == "windows" {
		a.Name += ".zip"
		write = writeZip
	} else {
		a.Name += ".tar.gz"
	}
	path := filepath.Join(cfg.out, a.Name)
	f, err := os.Create(path)
	if err != nil {
		return a, err
	}
	h := sha256.New()
	if err := write(io.MultiWriter(f, h), entries, cfg.mtime); err != nil {
		f.Close()
		return a, fmt.Errorf("pack %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return a, err
	}
	a.SHA256 = hex.EncodeToString(h.Sum(nil))
	return a, nil
}

// writeTarGz writes entries as a gzip'd tar with fixed owner and times.
func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: e.name, Mode: e.mode, Size: int64(len(data)), ModTime: mtime,
			Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes entries as a deflated zip with fixed times.
func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		data, err := os.ReadFile(e.src)
		if err != nil {
			return err
		}
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(os.FileMode(e.mode))
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSums writes the archives' sha256 in sha256sum's format (`sha256sum -c sha256sums.txt`).
func writeSums(path string, archives []archive) error {
	var b strings.Builder
	for _, a := range archives {
		fmt.Fprintf(&b, "%s  %s\n", a.SHA256, a.Name)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
