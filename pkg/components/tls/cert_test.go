package tls

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

const testDomain = "kf.example.org"

// testPKI is a CA and certificates it issued, as PEM files in a temporary folder.
type testPKI struct {
	t   *testing.T
	dir string
	ca  *x509.Certificate
	key *ecdsa.PrivateKey
	now time.Time
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{t: t, dir: t.TempDir(), now: time.Now()}
	p.key = p.newKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: p.now.Add(-time.Hour), NotAfter: p.now.AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &p.key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	return p
}

func (p *testPKI) newKey() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	return k
}

// leaf issues a certificate for names valid from nb to na, and returns its PEM and its key's.
func (p *testPKI) leaf(names []string, nb, na time.Time) (certPEM, keyPEM []byte) {
	k := p.newKey()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(p.now.UnixNano()), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names, NotBefore: nb, NotAfter: na}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &k.PublicKey, p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(k)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}

func (p *testPKI) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw})
}

func (p *testPKI) file(name string, data []byte) string {
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// Load reads the files and checks what needs no clock, each problem at its field, never quoting
// the key.
func TestLoad(t *testing.T) {
	p := newPKI(t)
	cert, key := p.leaf([]string{testDomain}, p.now.Add(-time.Hour), p.now.AddDate(0, 3, 0))
	_, otherKey := p.leaf([]string{testDomain}, p.now.Add(-time.Hour), p.now.AddDate(0, 3, 0))
	files := map[string]string{
		"chain":     p.file("chain.pem", append(append([]byte{}, cert...), p.caPEM()...)),
		"reversed":  p.file("reversed.pem", append(p.caPEM(), cert...)),
		"otherCA":   p.file("otherca.pem", append(append([]byte{}, cert...), newPKI(t).caPEM()...)),
		"key":       p.file("key.pem", key),
		"otherKey":  p.file("other.pem", otherKey),
		"empty":     p.file("empty.pem", []byte("\n")),
		"notPEM":    p.file("not.pem", []byte("hello")),
		"encrypted": p.file("enc.pem", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})),
		"keyInCert": p.file("keyincert.pem", append(append([]byte{}, cert...), key...)),
		"missing":   filepath.Join(p.dir, "missing.pem"),
	}
	for _, c := range []struct {
		name, cert, key string
		wildcard        bool
		field, msg      string
	}{
		{"fine", "chain", "key", false, "", ""},
		{"leaf only", "", "key", false, "", ""},
		{"missing", "missing", "key", false, "manual.certFile", "cannot read"},
		{"empty", "empty", "key", false, "manual.certFile", "is empty"},
		{"empty key", "chain", "empty", false, "manual.keyFile", "is empty"},
		{"not PEM", "notPEM", "key", false, "manual.certFile", "no PEM certificate"},
		{"key in cert", "keyInCert", "key", false, "manual.certFile", "{manual.keyFile}"},
		{"encrypted", "chain", "encrypted", false, "manual.keyFile", "encrypted"},
		{"other key", "chain", "otherKey", false, "manual.keyFile", "does not belong to the certificate in {manual.certFile}"},
		{"reversed", "reversed", "key", false, "manual.keyFile", "does not belong"}, // the CA's key is not given
		{"not its issuer", "otherCA", "key", false, "manual.certFile", "put the leaf first"},
		{"no wildcard", "chain", "key", true, "manual.certFile", "not *." + testDomain},
	} {
		t.Run(c.name, func(t *testing.T) {
			certFile := files[c.cert]
			if c.cert == "" {
				certFile = p.file("leaf.pem", cert)
			}
			s := &Spec{Domain: testDomain, Manual: &Manual{CertFile: certFile, KeyFile: files[c.key], Wildcard: c.wildcard}}
			ps := s.Load()
			for _, pr := range ps {
				if strings.Contains(pr.Message, "PRIVATE KEY-----") || bytes.Contains(key, []byte(pr.Message)) {
					t.Fatalf("a problem quotes the key: %v", pr)
				}
			}
			if c.msg == "" {
				if len(ps) > 0 || len(s.certs) == 0 || !bytes.Equal(s.keyPEM, key) {
					t.Fatalf("want loaded, got %v", ps)
				}
				return
			}
			if !has(ps, c.field, c.msg) {
				t.Fatalf("want a problem at %q containing %q, got %v", c.field, c.msg, ps)
			}
			if s.certPEM != nil || s.keyPEM != nil {
				t.Fatal("a failed Load kept the files")
			}
		})
	}
	if ps := (&Spec{Domain: testDomain, ACME: &ACME{Email: "ops@example.org"}}).Load(); len(ps) > 0 {
		t.Fatalf("acme: %v", ps)
	}
}

// Prepare refuses a certificate outside its dates (exit 2), warns on one expiring soon, and
// resolves the state.
func TestPrepareDates(t *testing.T) {
	p := newPKI(t)
	for _, c := range []struct {
		name    string
		nb, na  time.Time
		err     string
		warning string
	}{
		{"valid", p.now.Add(-time.Hour), p.now.AddDate(0, 3, 0), "", ""},
		{"expiring", p.now.Add(-time.Hour), p.now.Add(48 * time.Hour), "", "warning: tls: the certificate in "},
		{"expired", p.now.Add(-48 * time.Hour), p.now.Add(-time.Hour), "expired on", ""},
		{"not yet", p.now.Add(time.Hour), p.now.AddDate(0, 3, 0), "is not valid before", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, key := p.leaf([]string{testDomain}, c.nb, c.na)
			s := &Spec{Domain: testDomain, Manual: &Manual{CertFile: p.file("c.pem", cert), KeyFile: p.file("k.pem", key)}}
			s.Default()
			if ps := append(s.Validate(), s.Load()...); len(ps) > 0 {
				t.Fatal(ps)
			}
			var out bytes.Buffer
			err := Section.Prepare(t.Context(), &section.Run{Progress: output.NewProgress(&out)}, s)
			switch {
			case c.err != "":
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), s.Manual.CertFile) {
					t.Fatalf("want %q naming the file, got %v", c.err, err)
				}
				return
			case err != nil:
				t.Fatal(err)
			case s.state == nil || s.state.SecretName != DefaultManualSecret:
				t.Fatalf("state %+v", s.state)
			}
			if got := out.String(); (c.warning == "") != (got == "") || !strings.Contains(got, c.warning) {
				t.Fatalf("warning %q, want %q", got, c.warning)
			}
		})
	}
	if err := Section.Prepare(t.Context(), &section.Run{}, &Spec{Domain: testDomain, Manual: &Manual{CertFile: "c", KeyFile: "k"}}); err == nil {
		t.Fatal("Prepare of an unloaded manual certificate passed")
	}
}

// The post-conditions are the checks Apply itself makes hold, per mode.
func TestPostConditions(t *testing.T) {
	ids := func(s *Spec) []string {
		var out []string
		for _, c := range Section.PostConditions(s) {
			out = append(out, c.ID)
		}
		return out
	}
	if got := ids(&Spec{Manual: &Manual{}}); !slices.Equal(got, []string{"TLS-001", "TLS-002"}) {
		t.Errorf("manual: %v", got)
	}
	if got := ids(&Spec{ACME: &ACME{}}); !slices.Equal(got, []string{"TLS-001", "TLS-004", "TLS-005"}) {
		t.Errorf("acme: %v", got)
	}
}
