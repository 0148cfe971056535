// Package tls serves Kubeflow over HTTPS the way the runbook's section "HTTPS certificate" does,
// without its dangerous step: a manual certificate (a kubernetes.io/tls Secret) or Let's Encrypt
// through cert-manager (ClusterIssuer, Certificate, HTTP-01 through the istio gateway), an HTTPS
// server on Gateway kubeflow/kubeflow-gateway, and for ACME the challenge path let through the
// auth allow-list Kubeflow already has, so authentication stays on for every other path and
// renewals work with nobody at the keyboard. It holds no cobra code (see pkg/plugin/tls).
package tls

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Section is the name of the section in `verify` and in the apply engine's records.
const Section = "tls"

// DefaultManualSecret is the runbook's Secret name for a manual certificate.
const DefaultManualSecret = "kubeflow-domain-man-cert"

// ACME directories of Let's Encrypt, by the names --acme-server takes.
var acmeServers = map[string]struct{ url, suffix string }{
	"production": {"https://acme-v02.api.letsencrypt.org/directory", "prod"},
	"staging":    {"https://acme-staging-v02.api.letsencrypt.org/directory", "staging"},
}

// Spec is what one `tls` run asks for.
type Spec struct {
	// Domain is the DNS name Kubeflow is served on.
	Domain string
	// ACME selects Let's Encrypt (cert-manager, HTTP-01); otherwise CertPEM/KeyPEM are used.
	ACME bool
	// Email is the ACME account's contact.
	Email string
	// ACMEServer is "production", "staging" or an ACME directory URL.
	ACMEServer string
	// CertPEM (leaf first, then the chain) and KeyPEM: the manual certificate. Never printed.
	CertPEM, KeyPEM []byte
	// SecretName of the manual certificate's Secret in istio-system.
	SecretName string
	// Wildcard also serves *.Domain (manual only).
	Wildcard bool
	// HTTPRedirect makes port 80 redirect to HTTPS (manual only).
	HTTPRedirect bool
}

// Validate checks the spec without the cluster (usage errors, exit 2) and returns the state to
// record and warnings. now is the clock certificates are checked against.
func (s Spec) Validate(now time.Time) (*ingress.State, []string, error) {
	if s.Domain == "" {
		return nil, nil, core.UsageErrorf("--domain is required: the DNS name Kubeflow is served on, e.g. --domain kubeflow.example.org")
	}
	if errs := validation.IsDNS1123Subdomain(s.Domain); len(errs) > 0 || !strings.Contains(s.Domain, ".") {
		return nil, nil, core.UsageErrorf("invalid --domain %q: want a fully qualified DNS name in lower case, like kubeflow.example.org (no scheme, port, path or wildcard)", s.Domain)
	}
	if !s.ACME {
		return s.validateManual(now)
	}
	switch {
	case s.Wildcard:
		return nil, nil, core.UsageErrorf("--acme cannot issue --wildcard: Let's Encrypt's HTTP-01 challenge only proves single names; use a wildcard certificate from DNS-01 with --cert/--key, or drop --wildcard")
	case s.HTTPRedirect:
		return nil, nil, core.UsageErrorf("--http-redirect cannot go with --acme: the gateway's port-80 redirect would also redirect %s, where the challenge is answered, so issuance and every renewal would fail; drop --http-redirect", ingress.ChallengePrefix)
	case len(s.CertPEM) > 0 || len(s.KeyPEM) > 0:
		return nil, nil, core.UsageErrorf("--acme issues the certificate itself: drop --cert and --key (or drop --acme to use them)")
	case s.Email == "":
		return nil, nil, core.UsageErrorf("--acme needs --email: Let's Encrypt's account contact for expiry notices, e.g. --email ops@example.org")
	case !validEmail(s.Email):
		return nil, nil, core.UsageErrorf("invalid --email %q: want an address like ops@example.org", s.Email)
	}
	server, suffix, err := acmeServer(s.ACMEServer)
	if err != nil {
		return nil, nil, err
	}
	name := "kubeflow-domain-cert-" + suffix
	return &ingress.State{Domain: s.Domain, Mode: ingress.ACME, SecretName: name, Issuer: "letsencrypt-" + suffix, Certificate: name, ACMEServer: server}, nil, nil
}

func (s Spec) validateManual(now time.Time) (*ingress.State, []string, error) {
	if s.Email != "" || (s.ACMEServer != "" && s.ACMEServer != "production") {
		return nil, nil, core.UsageErrorf("--email and --acme-server are for --acme: add --acme, or drop them to use --cert/--key")
	}
	if s.CertPEM == nil || s.KeyPEM == nil {
		return nil, nil, core.UsageErrorf("give --cert FILE and --key FILE (a manual certificate), or --acme --email E (Let's Encrypt)")
	}
	name := s.SecretName
	if name == "" {
		name = DefaultManualSecret
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return nil, nil, core.UsageErrorf("invalid --secret-name %q: %s", name, errs[0])
	}
	_, warnings, err := ValidateManual(s.Domain, s.Wildcard, s.CertPEM, s.KeyPEM, now)
	if err != nil {
		return nil, nil, err
	}
	return &ingress.State{Domain: s.Domain, Mode: ingress.Manual, SecretName: name, Wildcard: s.Wildcard, HTTPRedirect: s.HTTPRedirect}, warnings, nil
}

// acmeServer resolves --acme-server to a directory URL and the suffix of the object names.
func acmeServer(v string) (string, string, error) {
	if v == "" {
		v = "production"
	}
	if s, ok := acmeServers[v]; ok {
		return s.url, s.suffix, nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", "", core.UsageErrorf("invalid --acme-server %q: use production, staging or an https ACME directory URL", v)
	}
	return v, "custom", nil
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
