package tls

import (
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Validate names each problem at its field of the block, with a message saying what to do.
func TestSpecValidate(t *testing.T) {
	manual := func(m Manual) *Manual { return &m }
	acme := func(a ACME) *ACME { return &a }
	const d = "kf.example.org"
	okManual := Manual{CertFile: "c.pem", KeyFile: "k.pem"}
	for _, c := range []struct {
		name  string
		spec  Spec
		field string // "" with msg "" means valid
		msg   string
	}{
		{"manual", Spec{Domain: d, Manual: manual(okManual)}, "", ""},
		{"acme", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"})}, "", ""},
		{"acme staging", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org", Server: "staging"})}, "", ""},
		{"acme url", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org", Server: "https://acme.example.org/dir"})}, "", ""},
		{"no domain", Spec{Manual: manual(okManual)}, "domain", "required"},
		{"bad domain", Spec{Domain: "Not A Domain", Manual: manual(okManual)}, "domain", "fully qualified DNS name"},
		{"single label", Spec{Domain: "localhost", Manual: manual(okManual)}, "domain", "fully qualified"},
		{"wildcard domain", Spec{Domain: "*.example.org", Manual: manual(okManual)}, "domain", "no scheme, port, path or wildcard"},
		{"neither", Spec{Domain: d}, "", "give {manual.certFile} and {manual.keyFile}"},
		{"empty manual", Spec{Domain: d, Manual: manual(Manual{SecretName: DefaultManualSecret})}, "", "or {acme} with {acme.email}"},
		{"no key", Spec{Domain: d, Manual: manual(Manual{CertFile: "c.pem"})}, "manual.keyFile", "required with {manual.certFile}"},
		{"no cert", Spec{Domain: d, Manual: manual(Manual{KeyFile: "k.pem"})}, "manual.certFile", "required with {manual.keyFile}"},
		{"bad secret", Spec{Domain: d, Manual: manual(Manual{CertFile: "c", KeyFile: "k", SecretName: "Bad_Name"})}, "manual.secretName", "not a valid Secret name"},
		{"no email", Spec{Domain: d, ACME: acme(ACME{})}, "acme.email", "required with {acme}"},
		{"bad email", Spec{Domain: d, ACME: acme(ACME{Email: "ops"})}, "acme.email", "not an e-mail address"},
		{"bad server", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org", Server: "ftp://x"})}, "acme.server", "production, staging or an https"},
		{"http server", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org", Server: "http://acme.example.org"})}, "acme.server", "https ACME directory"},
		{"acme wildcard", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"}), Manual: manual(Manual{Wildcard: true})}, "manual.wildcard", "{acme} cannot issue it"},
		{"acme redirect", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"}), Manual: manual(Manual{HTTPRedirect: true})}, "manual.httpRedirect", ingress.ChallengePrefix},
		{"acme with files", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"}), Manual: manual(okManual)}, "", "{acme} issues the certificate itself"},
		{"acme secret name", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"}), Manual: manual(Manual{SecretName: "mine"})}, "manual.secretName", "is for a manual certificate"},
		{"both blocks", Spec{Domain: d, ACME: acme(ACME{Email: "ops@example.org"}), Manual: manual(Manual{SecretName: DefaultManualSecret})}, "", "not both"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := c.spec
			s.Default()
			ps := s.Validate()
			if c.msg == "" {
				if len(ps) > 0 {
					t.Fatalf("want valid, got %v", ps)
				}
				return
			}
			if !has(ps, c.field, c.msg) {
				t.Fatalf("want a problem at %q containing %q, got %v", c.field, c.msg, ps)
			}
		})
	}
}

func has(ps core.Problems, field, msg string) bool {
	for _, p := range ps {
		if p.Field == field && strings.Contains(p.Message, msg) {
			return true
		}
	}
	return false
}

// Default fills every default from the package's constants, and only in the block given.
func TestSpecDefault(t *testing.T) {
	s := Spec{Manual: &Manual{}}
	s.Default()
	if s.Manual.SecretName != DefaultManualSecret || s.ACME != nil {
		t.Fatalf("manual: %+v", s)
	}
	s = Spec{ACME: &ACME{}}
	s.Default()
	if s.ACME.Server != DefaultACMEServer || s.Manual != nil {
		t.Fatalf("acme: %+v", s)
	}
}

// The state names the objects as before: the ACME server's suffix, the manual Secret.
func TestStateOf(t *testing.T) {
	s := &Spec{Domain: "kf.example.org", ACME: &ACME{Email: "ops@example.org"}}
	s.Default()
	st, err := s.stateOf()
	if err != nil || st.Mode != ingress.ACME || st.Certificate != "kubeflow-domain-cert-prod" || st.Issuer != "letsencrypt-prod" || st.SecretName != st.Certificate || !strings.HasPrefix(st.ACMEServer, "https://acme-v02.") {
		t.Fatalf("acme production: %+v %v", st, err)
	}
	s.ACME.Server = "staging"
	if st, _ = s.stateOf(); st.Issuer != "letsencrypt-staging" {
		t.Fatalf("acme staging: %+v", st)
	}
	s = &Spec{Domain: "kf.example.org", Manual: &Manual{CertFile: "c", KeyFile: "k", Wildcard: true}}
	s.Default()
	if st, _ = s.stateOf(); st.Mode != ingress.Manual || st.SecretName != DefaultManualSecret || !st.Wildcard {
		t.Fatalf("manual: %+v", st)
	}
}

// Resolve makes the certificate files absolute, and nothing else.
func TestResolve(t *testing.T) {
	s := &Spec{Domain: "kf.example.org", Manual: &Manual{CertFile: "c.pem", KeyFile: "k.pem", SecretName: "s"}}
	s.Resolve(func(p string) string { return "/base/" + p })
	if s.Manual.CertFile != "/base/c.pem" || s.Manual.KeyFile != "/base/k.pem" || s.Manual.SecretName != "s" {
		t.Fatalf("%+v", s.Manual)
	}
	(&Spec{ACME: &ACME{}}).Resolve(func(string) string { t.Fatal("nothing to resolve"); return "" })
}
