package helm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"helm.sh/helm/v3/pkg/provenance"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A private mirror over HTTPS (a test CA) with basic auth: refused without the CA or the
// credentials, loaded with them; the password never shows in an error.
func TestRepositoryWithTLSAndBasicAuth(t *testing.T) {
	const password = "mirror-password-never-printed"
	url, ca := testbed.ChartRepoTLS(t, "mirror", password)
	caFile := writeFile(t, "ca.pem", ca)
	pwFile := writeFile(t, "password", []byte(password+"\n"))
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	load := func(f core.ChartSource) error {
		f.Repo, f.Version = url, "4.0.18"
		ch, err := c.LoadChart(context.Background(), Spec{ChartName: nfsChart, Chart: f})
		if err == nil && ch.Metadata.Version != "4.0.18" {
			t.Fatalf("got %s", ch.Metadata.Version)
		}
		if err != nil && strings.Contains(err.Error(), password) {
			t.Fatalf("an error prints the password: %v", err)
		}
		return err
	}
	if err := load(core.ChartSource{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted CA: %v", err)
	}
	if err := load(core.ChartSource{CAFile: caFile}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("no credentials: %v", err)
	}
	if err := load(core.ChartSource{CAFile: caFile, Username: "mirror", PasswordFile: writeFile(t, "wrong", []byte("nope"))}); err == nil {
		t.Fatal("wrong password loaded the chart")
	}
	if err := load(core.ChartSource{CAFile: caFile, Username: "mirror", PasswordFile: pwFile}); err != nil {
		t.Fatal(err)
	}
	c.CacheDir = t.TempDir()
	if err := load(core.ChartSource{InsecureSkipTLSVerify: true, Username: "mirror", PasswordFile: pwFile}); err != nil {
		t.Fatalf("--chart-insecure-skip-tls-verify: %v", err)
	}
	// Bad flag combinations are usage errors before any request.
	for _, f := range []core.ChartSource{
		{Repo: url, CertFile: caFile},
		{Repo: url, PasswordFile: pwFile},
		{Repo: url, Username: "u", PasswordFile: filepath.Join(t.TempDir(), "missing")},
		{Repo: url, Verify: true, Keyring: filepath.Join(t.TempDir(), "missing.gpg")},
	} {
		if ps := append(f.Validate(), f.CheckFiles()...); len(ps) == 0 {
			t.Errorf("%+v: want a problem, got none", f)
		}
	}
}

// A cached archive is used only while its digest is the index's: a changed one is downloaded
// again; a mirror that serves another archive than its index lists is refused.
func TestCachedChartCheckedAgainstTheIndexDigest(t *testing.T) {
	url := testbed.ChartRepo(t)
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	s := Spec{ChartName: nfsChart, Chart: core.ChartSource{Repo: url, Version: "4.0.18"}}
	if _, err := c.LoadChart(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	cached, _ := filepath.Glob(filepath.Join(c.CacheDir, "repository", "*", nfsChart+"-4.0.18.tgz"))
	if len(cached) != 1 {
		t.Fatalf("cached: %v", cached)
	}
	other, err := os.ReadFile(filepath.Join(testbed.FixturesDir(t), "charts", "metallb-0.15.3.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cached[0], other, 0o644); err != nil {
		t.Fatal(err)
	}
	ch, err := c.LoadChart(context.Background(), s)
	if err != nil || ch.Metadata.Name != nfsChart {
		t.Fatalf("a tampered cache entry was used (%v, %v)", ch, err)
	}
	if d, _ := fileDigest(cached[0]); d == dataDigest(other) {
		t.Fatal("the tampered cache entry was kept")
	}

	// A mirror whose archive differs from its index's digest.
	dir := t.TempDir()
	nfs, err := os.ReadFile(filepath.Join(testbed.FixturesDir(t), "charts", nfsChart+"-4.0.18.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, nfsChart+"-4.0.18.tgz")
	if err := os.WriteFile(name, nfs, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	index, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, other, 0o644); err != nil { // served bytes no longer match
		t.Fatal(err)
	}
	c.CacheDir = t.TempDir()
	_, err = c.LoadChart(context.Background(), Spec{ChartName: nfsChart, Chart: core.ChartSource{Repo: srv.URL, Version: "4.0.18"}})
	if err == nil || !strings.Contains(err.Error(), "not the digest") {
		t.Fatalf("want the digest mismatch named, got %v", err)
	}
}

// --chart-verify: a chart signed by a key of the keyring loads; one signed by another key, or
// without a .prov, is refused.
func TestVerifyProvenance(t *testing.T) {
	signer, stranger := newKey(t, "signer"), newKey(t, "stranger")
	dir := t.TempDir()
	src := filepath.Join(testbed.FixturesDir(t), "charts", nfsChart+"-4.0.18.tgz")
	archive := filepath.Join(dir, filepath.Base(src))
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, data, 0o644); err != nil {
		t.Fatal(err)
	}
	sig, err := provenance.NewFromKeyring(signer.secret, "signer")
	if err != nil {
		t.Fatal(err)
	}
	prov, err := sig.ClearSign(archive)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive+".prov", []byte(prov), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	index, err := repo.IndexDirectory(dir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.WriteFile(filepath.Join(dir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := NewClient(nil, nil)
	load := func(keyring string) error {
		c.CacheDir = t.TempDir()
		_, err := c.LoadChart(context.Background(), Spec{ChartName: nfsChart, Chart: core.ChartSource{Repo: srv.URL, Version: "4.0.18", Verify: true, Keyring: keyring}})
		return err
	}
	if err := load(signer.public); err != nil {
		t.Fatalf("signed by the keyring's key: %v", err)
	}
	if err := load(stranger.public); err == nil {
		t.Fatal("a chart signed by a key outside the keyring was accepted")
	}
	if err := os.Remove(archive + ".prov"); err != nil {
		t.Fatal(err)
	}
	if err := load(signer.public); err == nil || !strings.Contains(err.Error(), "provenance") {
		t.Fatalf("no .prov: %v", err)
	}
}

type key struct{ secret, public string }

// newKey makes an OpenPGP key and writes its secret and public keyrings.
func newKey(t *testing.T, name string) key {
	t.Helper()
	e, err := openpgp.NewEntity(name, "test", name+"@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	k := key{secret: filepath.Join(dir, "secring.gpg"), public: filepath.Join(dir, "pubring.gpg")}
	sf, err := os.Create(k.secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(sf, nil); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	pf, err := os.Create(k.public)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Serialize(pf); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	return k
}
