// Package tls serves Kubeflow over HTTPS the way the runbook's section "HTTPS certificate" does,
// without its dangerous step: a manual certificate (a kubernetes.io/tls Secret) or Let's Encrypt
// through cert-manager (ClusterIssuer, Certificate, HTTP-01 through the istio gateway), an HTTPS
// server on Gateway kubeflow/kubeflow-gateway, and for ACME the challenge path let through the
// auth allow-list Kubeflow already has, so authentication stays on for every other path and
// renewals work with nobody at the keyboard. It holds no cobra code (see pkg/plugin/tls).
package tls

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Name is the section's name: the platform file's block, --only/--skip, `verify --section` and
// the apply engine's records.
const Name = "tls"

// Defaults of the block, also the defaults the command's flags show.
const (
	// DefaultManualSecret is the runbook's Secret name for a manual certificate.
	DefaultManualSecret = "kubeflow-domain-man-cert"
	// DefaultACMEServer is the ACME directory used when none is given.
	DefaultACMEServer = "production"
	// DefaultTimeout is the section's budget when none is given (`tls`, `tls uninstall`).
	DefaultTimeout = 10 * time.Minute
)

// ACME directories of Let's Encrypt, by the names acme.server (--acme-server) takes.
var acmeServers = map[string]struct{ url, suffix string }{
	DefaultACMEServer: {"https://acme-v02.api.letsencrypt.org/directory", "prod"},
	"staging":         {"https://acme-staging-v02.api.letsencrypt.org/directory", "staging"},
}

// Spec is the tls section's desired state: the platform file's tls block, and what `tls` binds
// its flags into. Exactly one of Manual and ACME is given.
type Spec struct {
	// Domain is the DNS name Kubeflow is served on (--domain).
	Domain string `json:"domain"`
	// Manual is a certificate and key the user has, as files (--cert, --key, ...).
	Manual *Manual `json:"manual,omitempty"`
	// ACME is a certificate from an ACME server (Let's Encrypt) through cert-manager (--acme).
	ACME *ACME `json:"acme,omitempty"`

	// certPEM and keyPEM are the files Load read (never printed); certs is certPEM parsed, leaf
	// first.
	certPEM, keyPEM []byte
	certs           []*x509.Certificate
	// state is what Prepare resolved: the record Apply writes and renders from.
	state *ingress.State
}

// Manual is the manual certificate: the block's manual.
type Manual struct {
	// CertFile is the PEM certificate chain, leaf first (--cert).
	CertFile string `json:"certFile"`
	// KeyFile is the certificate's unencrypted PEM private key (--key; never printed).
	KeyFile string `json:"keyFile"`
	// SecretName is the Secret in istio-system holding it (--secret-name).
	SecretName string `json:"secretName,omitempty"`
	// Wildcard also serves *.Domain (--wildcard).
	Wildcard bool `json:"wildcard,omitempty"`
	// HTTPRedirect makes port 80 redirect to HTTPS (--http-redirect).
	HTTPRedirect bool `json:"httpRedirect,omitempty"`
}

// ACME is Let's Encrypt through cert-manager: the block's acme.
type ACME struct {
	// Email is the ACME account's contact (--email).
	Email string `json:"email"`
	// Server is "production", "staging" or an https ACME directory URL (--acme-server).
	Server string `json:"server,omitempty"`
}

// Default fills the Secret name of a manual certificate and the ACME server.
func (s *Spec) Default() {
	if s.Manual != nil && s.Manual.SecretName == "" {
		s.Manual.SecretName = DefaultManualSecret
	}
	if s.ACME != nil && s.ACME.Server == "" {
		s.ACME.Server = DefaultACMEServer
	}
}

// Validate checks the block alone (no file, no clock): the domain, exactly one of manual and
// acme, and the fields of the one given. The certificate itself is checked by Load (its
// content) and Prepare (its dates).
func (s *Spec) Validate() core.Problems {
	var ps core.Problems
	switch {
	case s.Domain == "":
		ps = append(ps, core.Problemf("domain", "required: the DNS name Kubeflow is served on, e.g. kubeflow.example.org"))
	case !validDomain(s.Domain):
		ps = append(ps, core.Problemf("domain", "%q is not a fully qualified DNS name in lower case: want one like kubeflow.example.org (no scheme, port, path or wildcard)", s.Domain))
	}
	m, a := s.Manual, s.ACME
	switch {
	case m != nil && a != nil:
		return append(ps, bothProblems(m)...)
	case a != nil:
		return append(ps, a.validate()...)
	case m == nil || (m.CertFile == "" && m.KeyFile == ""):
		return append(ps, core.Problemf("", "give {manual.certFile} and {manual.keyFile} (a manual certificate), or {acme} with {acme.email} (Let's Encrypt)"))
	}
	return append(ps, m.validate(s.Domain)...)
}

func (m *Manual) validate(domain string) core.Problems {
	var ps core.Problems
	switch {
	case m.CertFile == "":
		ps = append(ps, core.Problemf("manual.certFile", "required with {manual.keyFile}: the PEM certificate chain (leaf first) for %s", orDomain(domain)))
	case m.KeyFile == "":
		ps = append(ps, core.Problemf("manual.keyFile", "required with {manual.certFile}: the PEM private key of the certificate"))
	}
	if m.SecretName != "" {
		if errs := validation.IsDNS1123Subdomain(m.SecretName); len(errs) > 0 {
			ps = append(ps, core.Problemf("manual.secretName", "%q is not a valid Secret name: %s", m.SecretName, errs[0]))
		}
	}
	return ps
}

func (a *ACME) validate() core.Problems {
	var ps core.Problems
	switch {
	case a.Email == "":
		ps = append(ps, core.Problemf("acme.email", "required with {acme}: Let's Encrypt's account contact for expiry notices, e.g. ops@example.org"))
	case !validEmail(a.Email):
		ps = append(ps, core.Problemf("acme.email", "%q is not an e-mail address: want one like ops@example.org", a.Email))
	}
	if _, _, err := acmeServer(a.Server); err != nil {
		ps = append(ps, core.Problemf("acme.server", "%q is not an ACME directory: use production, staging or an https ACME directory URL", a.Server))
	}
	return ps
}

// bothProblems says what of manual cannot go with acme (the command's --acme with a manual
// flag), or that only one of the two blocks may be given.
func bothProblems(m *Manual) core.Problems {
	var ps core.Problems
	if m.Wildcard {
		ps = append(ps, core.Problemf("manual.wildcard", "{acme} cannot issue it: Let's Encrypt's HTTP-01 challenge only proves single names; use a wildcard certificate from DNS-01 with {manual.certFile}/{manual.keyFile}, or drop {manual.wildcard}"))
	}
	if m.HTTPRedirect {
		ps = append(ps, core.Problemf("manual.httpRedirect", "cannot go with {acme}: the gateway's port-80 redirect would also redirect %s, where the challenge is answered, so issuance and every renewal would fail; drop {manual.httpRedirect}", ingress.ChallengePrefix))
	}
	if m.CertFile != "" || m.KeyFile != "" {
		ps = append(ps, core.Problemf("", "{acme} issues the certificate itself: drop {manual.certFile} and {manual.keyFile} (or drop {acme} to use them)"))
	}
	if m.SecretName != "" && m.SecretName != DefaultManualSecret {
		ps = append(ps, core.Problemf("manual.secretName", "is for a manual certificate: with {acme} the Secret is the Certificate's (kubeflow-domain-cert-<env>)"))
	}
	if len(ps) == 0 {
		ps = append(ps, core.Problemf("", "give {manual} (a manual certificate) or {acme} (Let's Encrypt), not both"))
	}
	return ps
}

// Resolve makes the certificate and key files absolute with abs.
func (s *Spec) Resolve(abs func(string) string) {
	if m := s.Manual; m != nil {
		if m.CertFile != "" {
			m.CertFile = abs(m.CertFile)
		}
		if m.KeyFile != "" {
			m.KeyFile = abs(m.KeyFile)
		}
	}
}

// stateOf is the record s asks for: object names and the ACME directory resolved. s is valid.
func (s *Spec) stateOf() (*ingress.State, error) {
	if a := s.ACME; a != nil {
		server, suffix, err := acmeServer(a.Server)
		if err != nil {
			return nil, core.UsageErrorf("%q is not an ACME directory: use production, staging or an https ACME directory URL", a.Server)
		}
		name := "kubeflow-domain-cert-" + suffix
		return &ingress.State{Domain: s.Domain, Mode: ingress.ACME, SecretName: name, Issuer: "letsencrypt-" + suffix, Certificate: name, ACMEServer: server}, nil
	}
	if s.Manual == nil {
		return nil, fmt.Errorf("tls: the spec has neither manual nor acme")
	}
	m := s.Manual
	name := m.SecretName
	if name == "" {
		name = DefaultManualSecret
	}
	return &ingress.State{Domain: s.Domain, Mode: ingress.Manual, SecretName: name, Wildcard: m.Wildcard, HTTPRedirect: m.HTTPRedirect}, nil
}

// acmeServer resolves acme.server to a directory URL and the suffix of the object names.
func acmeServer(v string) (string, string, error) {
	if v == "" {
		v = DefaultACMEServer
	}
	if s, ok := acmeServers[v]; ok {
		return s.url, s.suffix, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", "", fmt.Errorf("not an ACME directory")
	}
	return v, "custom", nil
}

func validDomain(d string) bool {
	return len(validation.IsDNS1123Subdomain(d)) == 0 && strings.Contains(d, ".")
}

func orDomain(d string) string {
	if d == "" {
		return "the domain"
	}
	return d
}

func validEmail(e string) bool {
	local, domain, ok := strings.Cut(e, "@")
	return ok && local != "" && strings.Contains(domain, ".") && !strings.ContainsAny(e, " \t<>,")
}

// Describe is a one-line summary of a state, for notes.
func Describe(st *ingress.State) string {
	if st.Mode == ingress.ACME {
		return fmt.Sprintf("https://%s/ with a Let's Encrypt certificate (ClusterIssuer %s, Certificate %s/%s)", st.Domain, st.Issuer, ingress.IstioNamespace, st.Certificate)
	}
	return fmt.Sprintf("https://%s/ with the certificate in Secret %s/%s", st.Domain, ingress.IstioNamespace, st.SecretName)
}
