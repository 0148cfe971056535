package tls

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	tlscomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// The command tree builds (each -o registered once per command) with the section's defaults.
func TestCommandTree(t *testing.T) {
	cmd := NewCmdTLS(nil, genericiooptions.NewTestIOStreamsDiscard())
	for _, c := range append(cmd.Commands(), cmd) {
		if c.Flags().Lookup("output") == nil {
			t.Errorf("%s has no -o", c.Name())
		}
	}
	fl := cmd.Flags()
	if v := fl.Lookup("acme-server").DefValue; v != tlscomp.DefaultACMEServer {
		t.Errorf("--acme-server defaults to %q", v)
	}
	if v := fl.Lookup("secret-name").DefValue; v != tlscomp.DefaultManualSecret {
		t.Errorf("--secret-name defaults to %q", v)
	}
	if v := fl.Lookup("timeout").DefValue; v != tlscomp.DefaultTimeout.String() {
		t.Errorf("--timeout defaults to %q", v)
	}
}

// parse binds args into a fresh Options and validates them.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	o := &Options{}
	cmd := newCmd(o)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return o, o.Validate(cmd.Flags())
}

// The flags land in the Spec's block that --acme selects; every problem names its flag (exit 2).
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // "" = valid
	}{
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org"}, ""},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--acme-server", "staging"}, ""},
		{[]string{"--remove"}, ""},
		{[]string{"--remove", "--domain", "kf.example.org"}, "--remove takes no --domain"},
		{[]string{"--domain", "kf.example.org"}, "give --cert and --key (a manual certificate), or --acme with --email (Let's Encrypt)"},
		{[]string{"--cert", "c.pem", "--key", "k.pem"}, "--domain: required"},
		{[]string{"--domain", "Not A Domain", "--cert", "c.pem", "--key", "k.pem"}, `--domain: "Not A Domain" is not a fully qualified DNS name`},
		{[]string{"--domain", "kf.example.org", "--cert", "c.pem"}, "--key: required with --cert"},
		{[]string{"--domain", "kf.example.org", "--cert", "c.pem", "--key", "k.pem", "--secret-name", "Bad_Name"}, "--secret-name: \"Bad_Name\" is not a valid Secret name"},
		{[]string{"--domain", "kf.example.org", "--acme"}, "--email: required with --acme"},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops"}, "--email: \"ops\" is not an e-mail address"},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--acme-server", "ftp://x"}, "--acme-server: \"ftp://x\""},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--wildcard"}, "--wildcard: --acme cannot issue it"},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--http-redirect"}, "--http-redirect: cannot go with --acme"},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--cert", "c.pem", "--key", "k.pem"}, "--acme issues the certificate itself: drop --cert and --key"},
		{[]string{"--domain", "kf.example.org", "--acme", "--email", "ops@example.org", "--secret-name", "mine"}, "--secret-name: is for a manual certificate"},
		{[]string{"--domain", "kf.example.org", "--email", "ops@example.org", "--cert", "c.pem", "--key", "k.pem"}, "--email and --acme-server are for --acme"},
		{[]string{"--domain", "kf.example.org", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"}, "--cert: cannot read /nonexistent/c.pem"},
	} {
		o, err := parse(t, c.args...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.args, err)
		case c.want == "":
		case err == nil || core.ExitCode(err) != core.ExitUsage || !strings.Contains(err.Error(), c.want):
			t.Errorf("%v: want exit 2 with %q, got %v", c.args, c.want, err)
		}
		if c.want == "" && !o.Remove && (o.Spec.Manual != nil || o.Spec.ACME == nil || o.Spec.ACME.Server == "") {
			t.Errorf("%v: --acme should keep only the acme block, defaulted: %+v", c.args, o.Spec)
		}
	}
}
