package tls

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
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
	certs, err := parseChain(certPEM)
	if err != nil {
		return CertInfo{}, err
	}
	return info(certs[0]), nil
}

func info(c *x509.Certificate) CertInfo {
	return CertInfo{Subject: c.Subject.String(), DNSNames: c.DNSNames, NotBefore: c.NotBefore, NotAfter: c.NotAfter, Issuer: c.Issuer.String()}
}

// ValidateManual checks a certificate chain and key for the domain before anything is sent:
// PEM, key matching the leaf, leaf first and each certificate signed by the next, the domain (and
// *.domain with wildcard) covered, valid now. It returns the leaf and warnings (expiring within
// ExpiryWarning); an error is a usage error (exit 2). Messages never quote the files' contents.
func ValidateManual(domain string, wildcard bool, certPEM, keyPEM []byte, now time.Time) (CertInfo, []string, error) {
	bad := func(format string, args ...any) (CertInfo, []string, error) {
		return CertInfo{}, nil, core.UsageErrorf(format, args...)
	}
	if len(bytes.TrimSpace(certPEM)) == 0 {
		return bad("--cert is empty: give the PEM certificate chain (leaf first) for %s", domain)
	}
	if len(bytes.TrimSpace(keyPEM)) == 0 {
		return bad("--key is empty: give the PEM private key of the certificate")
	}
	certs, err := parseChain(certPEM)
	if err != nil {
		return bad("--cert: %v", err)
	}
	if err := checkKey(keyPEM); err != nil {
		return bad("--key: %v", err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return bad("--key does not belong to the certificate in --cert (%s): give the key the certificate was issued for", keyPairReason(err))
	}
	for i := 1; i < len(certs); i++ {
		if err := certs[i-1].CheckSignatureFrom(certs[i]); err != nil {
			return bad("--cert: certificate %d (%s) is not signed by certificate %d (%s): put the leaf first, then each issuer in order (as the CA delivered the chain)",
				i, certs[i-1].Subject, i+1, certs[i].Subject)
		}
	}
	leaf := info(certs[0])
	want := []string{domain}
	if wildcard {
		want = append(want, "*."+domain)
	}
	for _, h := range want {
		if !leaf.Covers(h) {
			return bad("--cert: the certificate is for %s, not %s: use a certificate issued for %s", names(leaf), h, strings.Join(want, " and "))
		}
	}
	for i, c := range certs {
		what := "the certificate"
		if i > 0 {
			what = fmt.Sprintf("chain certificate %d (%s)", i+1, c.Subject)
		}
		switch {
		case now.After(c.NotAfter):
			return bad("--cert: %s expired on %s: renew it", what, c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			return bad("--cert: %s is not valid before %s: check the issuing machine's clock, or wait", what, c.NotBefore.UTC().Format(time.RFC3339))
		}
	}
	var warnings []string
	if left := leaf.NotAfter.Sub(now); left < ExpiryWarning {
		warnings = append(warnings, fmt.Sprintf("the certificate expires in %d days (%s): renew it soon and run `tls` again", int(left.Hours()/24), leaf.NotAfter.UTC().Format(time.RFC3339)))
	}
	return leaf, warnings, nil
}

func names(c CertInfo) string {
	if len(c.DNSNames) == 0 {
		return "no DNS name (subject " + c.Subject + ")"
	}
	return strings.Join(c.DNSNames, ", ")
}

// parseChain decodes every CERTIFICATE block, leaf first.
func parseChain(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a %q PEM block: give only certificates (the key goes in --key)", b.Type)
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
