package tls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// ExpiryWarning is how close to its end a certificate gets a warning.
const ExpiryWarning = 30 * 24 * time.Hour

// CertInfo is what the checks and `tls status` say about a certificate (never the key).
type CertInfo struct {
	Subject   string    `json:"subject"`
	DNSNames  []string  `json:"dnsNames"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	Issuer    string    `json:"issuer"`
}

// Covers tells whether the certificate is valid for host (wildcards as TLS clients match them).
func (c CertInfo) Covers(host string) bool {
	if strings.HasPrefix(host, "*.") {
		return slices.Contains(c.DNSNames, host)
	}
	leaf := &x509.Certificate{DNSNames: c.DNSNames}
	return leaf.VerifyHostname(host) == nil
}

// ParseCertificate reads the leaf of a PEM certificate chain (a Secret's tls.crt).
func ParseCertificate(certPEM []byte) (CertInfo, error) {
	certs, err := parseChain(certPEM, "tls.key")
	if err != nil {
		return CertInfo{}, err
	}
	return info(certs[0]), nil
}

func info(c *x509.Certificate) CertInfo {
	return CertInfo{Subject: c.Subject.String(), DNSNames: c.DNSNames, NotBefore: c.NotBefore, NotAfter: c.NotAfter, Issuer: c.Issuer.String()}
}

// Load reads the manual certificate's files and checks what needs no clock: PEM, an
// unencrypted key matching the leaf, leaf first and each certificate signed by the next, the
// domain (and *.domain with wildcard) covered. The files are kept in unexported fields for
// Apply; messages never quote their contents. Prepare checks the dates.
func (s *Spec) Load() core.Problems {
	s.certPEM, s.keyPEM, s.certs = nil, nil, nil
	m := s.Manual
	if m == nil || s.ACME != nil {
		return nil
	}
	certPEM, ps := readPEM("manual.certFile", m.CertFile, "give the PEM certificate chain (leaf first) for "+orDomain(s.Domain))
	keyPEM, kps := readPEM("manual.keyFile", m.KeyFile, "give the PEM private key of the certificate")
	if ps = append(ps, kps...); len(ps) > 0 || certPEM == nil || keyPEM == nil {
		return ps
	}
	certs, err := parseChain(certPEM, "{manual.keyFile}")
	if err != nil {
		return core.Problems{core.Problemf("manual.certFile", "%v", err)}
	}
	if err := checkKey(keyPEM); err != nil {
		return core.Problems{core.Problemf("manual.keyFile", "%v", err)}
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return core.Problems{core.Problemf("manual.keyFile", "does not belong to the certificate in {manual.certFile} (%s): give the key the certificate was issued for", keyPairReason(err))}
	}
	for i := 1; i < len(certs); i++ {
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return core.Problems{core.Problemf("manual.certFile", "certificate %d (%s) is not signed by certificate %d (%s): put the leaf first, then each issuer in order (as the CA delivered the chain)",
				i, certs[i-1].Subject, i+1, certs[i].Subject)}
		}
	}
	if validDomain(s.Domain) {
		leaf := info(certs[0])
		want := []string{s.Domain}
		if m.Wildcard {
			want = append(want, "*."+s.Domain)
		}
		for _, h := range want {
			if !leaf.Covers(h) {
				return core.Problems{core.Problemf("manual.certFile", "the certificate is for %s, not %s: use a certificate issued for %s", names(leaf), h, strings.Join(want, " and "))}
			}
		}
	}
	s.certPEM, s.keyPEM, s.certs = certPEM, keyPEM, certs
	return nil
}

// readPEM reads a file of the manual certificate ("" is Validate's to report).
func readPEM(field, name, what string) ([]byte, core.Problems) {
	if name == "" {
		return nil, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, core.Problems{core.Problemf(field, "cannot read %s (%v)", name, unwrapPath(err))}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, core.Problems{core.Problemf(field, "%s is empty: %s", name, what)}
	}
	return data, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// checkDates checks the loaded chain against now: each certificate valid (a usage error
// otherwise), and a warning when the leaf expires within ExpiryWarning.
func (s *Spec) checkDates(now time.Time) ([]string, error) {
	if len(s.certs) == 0 {
		return nil, nil
	}
	file := s.Manual.CertFile
	for i, c := range s.certs {
		what := "the certificate in " + file
		if i > 0 {
			what = fmt.Sprintf("chain certificate %d (%s) in %s", i+1, c.Subject, file)
		}
		switch {
		case now.After(c.NotAfter):
			return nil, core.UsageErrorf("%s expired on %s: renew it", what, c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return nil, core.UsageErrorf("%s is not valid before %s: check the issuing machine's clock, or wait", what, c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	leaf := s.certs[0]
	if left := leaf.NotAfter.Sub(now); left < ExpiryWarning {
		return []string{fmt.Sprintf("the certificate in %s expires in %d days (%s): renew it soon and run `tls` again", file, int(left.Hours()/24), leaf.NotAfter.UTC().Format(time.RFC3339))}, nil
	}
	return nil, nil
}

func names(c CertInfo) string {
	if len(c.DNSNames) == 0 {
		return "no DNS name (subject " + c.Subject + ")"
	}
	return strings.Join(c.DNSNames, ", ")
}

// parseChain decodes every CERTIFICATE block, leaf first; keyRef says where the key belongs.
func parseChain(data []byte, keyRef string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %q PEM block: give only certificates (the key goes in %s)", b.Type, keyRef)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no PEM certificate found (want -----BEGIN CERTIFICATE----- blocks)")
	}
	return certs, nil
}

// checkKey refuses what is not one unencrypted PEM private key.
func checkKey(data []byte) error {
	b, _ := pem.Decode(data)
	if b == nil {
		return fmt.Errorf("no PEM private key found (want -----BEGIN PRIVATE KEY----- or RSA/EC PRIVATE KEY)")
	}
	//nolint:staticcheck // IsEncryptedPEMBlock only detects the legacy encryption; we refuse, never decrypt.
	if b.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(b) {
		return fmt.Errorf("the private key is encrypted: the gateway needs it in clear; decrypt it first (e.g. openssl pkey -in KEY -out key.pem) and keep that file 0600")
	}
	if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
		return fmt.Errorf("holds a %q PEM block, not a private key", b.Type)
	}
	return nil
}

// keyPairReason shortens crypto/tls's key-pair errors to what the user can act on.
func keyPairReason(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "does not match") {
		return "the public keys differ"
	}
	return strings.TrimPrefix(msg, "tls: ")
}
