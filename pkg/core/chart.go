package core

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ChartSource is where a helm-based section's chart comes from and how to reach it (air-gapped
// mirrors included): the `chart` block of the section in the platform file, and the --chart-*
// flags, --set and -f of its command.
type ChartSource struct {
	// Repo is the chart repository URL.
	Repo string `json:"repo,omitempty"`
	// Version is the chart version; empty picks the one that fits the server, where the section
	// has such a rule.
	Version string `json:"version,omitempty"`
	// Chart overrides repo+name: a local .tgz or directory, an http(s) URL to a .tgz, or oci://.
	Chart string `json:"chart,omitempty"`
	// Set are key=value values, applied last (the file gives them as a map).
	Set SetValues `json:"set,omitempty"`
	// ValuesFiles are extra values files.
	ValuesFiles []string `json:"valuesFiles,omitempty"`
	// Repository access, as helm's flags of the same names give it: basic auth with the
	// password read from PasswordFile (never a value), TLS files, and provenance.
	Username              string `json:"username,omitempty"`
	PasswordFile          string `json:"passwordFile,omitempty"`
	CAFile                string `json:"caFile,omitempty"`
	CertFile              string `json:"certFile,omitempty"`
	KeyFile               string `json:"keyFile,omitempty"`
	InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify,omitempty"`
	// Verify checks the chart's provenance file (.prov) against Keyring.
	Verify  bool   `json:"verify,omitempty"`
	Keyring string `json:"keyring,omitempty"`
}

// SetValues are helm's --set key=value pairs. In the platform file they are a map, each key
// a --set key (a.b, list[0]); they are kept sorted by key.
type SetValues []string

// UnmarshalJSON reads the file's map as key=value pairs, sorted by key.
func (s *SetValues) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	*s = (*s)[:0]
	for _, k := range keys {
		*s = append(*s, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return nil
}

// MarshalJSON writes the pairs as the file's map.
func (s SetValues) MarshalJSON() ([]byte, error) {
	m := map[string]string{}
	for _, kv := range s {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return json.Marshal(m)
}

// Default fills the section's repository and version where none is given, and helm's keyring.
func (c *ChartSource) Default(repo, version string) {
	if c.Repo == "" {
		c.Repo = repo
	}
	if c.Version == "" {
		c.Version = version
	}
	if c.Keyring == "" {
		c.Keyring = DefaultKeyring()
	}
}

// Resolve makes the local paths absolute with abs (the platform file's folder).
func (c *ChartSource) Resolve(abs func(string) string) {
	c.Chart, c.PasswordFile, c.CAFile = abs(c.Chart), abs(c.PasswordFile), abs(c.CAFile)
	c.CertFile, c.KeyFile, c.Keyring = abs(c.CertFile), abs(c.KeyFile), abs(c.Keyring)
	for i, v := range c.ValuesFiles {
		c.ValuesFiles[i] = abs(v)
	}
}

// DefaultKeyring is helm's default: ~/.gnupg/pubring.gpg.
func DefaultKeyring() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".gnupg", "pubring.gpg")
}

// Validate checks the values alone (no file is read), each problem at its field.
func (c *ChartSource) Validate() Problems {
	var ps Problems
	if c.Chart == "" && c.Repo == "" {
		ps = append(ps, Problemf("repo", "is empty: give a repository URL or {chart} (PATH|URL|oci://...)"))
	}
	for i, s := range c.Set {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			ps = append(ps, Problemf(fmt.Sprintf("set[%d]", i), "%q: want key=value", s))
		}
	}
	if c.CertFile != "" && c.KeyFile == "" {
		ps = append(ps, Problemf("certFile", "goes with {keyFile}: give both"))
	}
	if c.KeyFile != "" && c.CertFile == "" {
		ps = append(ps, Problemf("keyFile", "goes with {certFile}: give both"))
	}
	if c.PasswordFile != "" && c.Username == "" {
		ps = append(ps, Problemf("passwordFile", "needs {username}"))
	}
	return ps
}

// CheckFiles checks that the local files named exist (the chart, the values files, the access
// files, the keyring with Verify), each problem at its field.
func (c *ChartSource) CheckFiles() Problems {
	var ps Problems
	files := []struct{ field, path string }{{"passwordFile", c.PasswordFile}, {"caFile", c.CAFile}, {"certFile", c.CertFile}, {"keyFile", c.KeyFile}}
	if c.Verify {
		files = append(files, struct{ field, path string }{"keyring", c.Keyring})
	}
	if c.Chart != "" && !strings.Contains(c.Chart, "://") {
		if _, err := os.Stat(c.Chart); err != nil {
			ps = append(ps, Problemf("chart", "%v: give a chart .tgz or folder, an https URL of a .tgz, or oci://...", err))
		}
	}
	for i, v := range c.ValuesFiles {
		files = append(files, struct{ field, path string }{fmt.Sprintf("valuesFiles[%d]", i), v})
	}
	for _, x := range files {
		if x.path == "" {
			continue
		}
		if _, err := os.Stat(x.path); err != nil {
			ps = append(ps, Problemf(x.field, "%v", err))
		}
	}
	return ps
}

// ChartFlag names the flag of a chart field (core.ChartSource's json names): --chart-repo for
// repo, --set for set[i], -f for valuesFiles[i].
func ChartFlag(field string) string {
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	switch field {
	case "chart", "set":
		return "--" + field
	case "valuesFiles":
		return "-f"
	case "insecureSkipTLSVerify":
		return "--chart-insecure-skip-tls-verify"
	}
	return "--chart-" + kebab(strings.TrimSuffix(field, "File")) + fileSuffix(field)
}

func fileSuffix(field string) string {
	if strings.HasSuffix(field, "File") {
		return "-file"
	}
	return ""
}

// kebab writes a camelCase field name as a flag name: caFile is ca-file, releaseNamespace is
// release-namespace.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
