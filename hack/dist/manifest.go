package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
)

// manifestPlatform is one platforms entry of the krew manifest.
type manifestPlatform struct {
	OS, Arch, URI, SHA256, Bin string
	Files                      []string
}

// writeManifest renders hack/krew-manifest.yaml.tmpl for the archives into cfg.manifest.
func writeManifest(cfg *config, archives []archive) error {
	tmplPath := filepath.Join(cfg.root, "hack", "krew-manifest.yaml.tmpl")
	tmpl, err := template.New(filepath.Base(tmplPath)).Option("missingkey=error").ParseFiles(tmplPath)
	if err != nil {
		return fmt.Errorf("krew manifest template: %w", err)
	}
	data := struct {
		Version, Homepage string
		Platforms         []manifestPlatform
	}{Version: cfg.version, Homepage: homepage}
	for _, a := range archives {
		data.Platforms = append(data.Platforms, manifestPlatform{
			OS:     a.OS,
			Arch:   a.Arch,
			URI:    fmt.Sprintf("%s/%s/%s", releaseURL, cfg.version, a.Name),
			SHA256: a.SHA256,
			Bin:    a.binary(),
			Files:  a.Files,
		})
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("krew manifest template: %w", err)
	}
	if dir := filepath.Dir(cfg.manifest); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(cfg.manifest, buf.Bytes(), 0o644)
}
