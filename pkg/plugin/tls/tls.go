// Package tls implements `kubectl flexigrobots tls` (runbook section "HTTPS certificate": a manual
// certificate or Let's Encrypt, with authentication kept on) and `tls status`.
package tls

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	tlscomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// Options holds the flags of `tls`.
type Options struct {
	cmdutil.MutatingFlags
	Domain       string
	CertFile     string
	KeyFile      string
	SecretName   string
	Wildcard     bool
	HTTPRedirect bool
	ACME         bool
	Email        string
	ACMEServer   string
	Remove       bool

	spec      tlscomp.Spec
	state     *ingress.State
	installer *tlscomp.Installer
	factory   *kube.Factory
	streams   genericiooptions.IOStreams
}

// NewCmdTLS builds `kubectl flexigrobots tls` and its `status` subcommand.
func NewCmdTLS(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "tls --domain D (--cert FILE --key FILE | --acme --email E) [flags]",
		Short: "Serve Kubeflow over HTTPS: your certificate, or Let's Encrypt with authentication kept on (runbook: HTTPS certificate)",
		Long: `Add an HTTPS server for --domain to Gateway kubeflow/kubeflow-gateway, serving a kubernetes.io/tls
Secret in istio-system.

Manual certificate (runbook Option B): --cert (PEM, leaf first, then the chain) and --key are checked
before anything changes: PEM, key matching the certificate, chain order, the domain (and *.domain
with --wildcard) covered, valid now (a warning when it expires within 30 days), no encrypted key.
The key is never printed.

Let's Encrypt (runbook Option A, --acme): a ClusterIssuer (letsencrypt-prod or letsencrypt-staging;
HTTP-01 through the istio gateway) and Certificate istio-system/kubeflow-domain-cert-<env>. Unlike
the runbook, authentication is never switched off: only ` + "/.well-known/acme-challenge/" + ` is let through the
allow-list Kubeflow already has (v1.5: authservice's SKIP_AUTH_URI, and authservice is restarted;
v1.10: the notPaths of both ingress AuthorizationPolicies). The exclusion stays, so cert-manager's
renewals (about day 60 of 90) pass with nobody at the keyboard; it exposes only what cert-manager's
solver serves there (the challenge tokens). The command waits for the Certificate to be Ready.

The Gateway and the allow-list are rendered by the same function as in "kubeflow", from a record in
ConfigMap istio-system/flexigrobots-tls, so "kubeflow" and "tls" can run in any order. Run it again:
"unchanged". --remove goes back to HTTP only and deletes what tls created.`,
		Example: `  # Your own certificate (kubectl create secret tls + 031-gw_https_manual_certificates.yaml)
  kubectl flexigrobots tls --domain kubeflow.example.org --cert kubeflow.crt --key kubeflow.key

  # ... for the domain and its subdomains, redirecting port 80 to HTTPS
  kubectl flexigrobots tls --domain kubeflow.example.org --cert wild.crt --key wild.key --wildcard --http-redirect

  # Let's Encrypt (try --acme-server staging first: untrusted, but proves the challenge passes)
  kubectl flexigrobots tls --domain kubeflow.example.org --acme --email ops@example.org

  # What is served, until when, and whether renewals can pass
  kubectl flexigrobots tls status

  # Back to HTTP only
  kubectl flexigrobots tls --remove`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(cmd.Flags()); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Domain, "domain", "", "DNS name Kubeflow is served on (its A record points at the ingress gateway)")
	fl.StringVar(&o.CertFile, "cert", "", "PEM certificate file: the leaf first, then the intermediates")
	fl.StringVar(&o.KeyFile, "key", "", "PEM private key file of the certificate (unencrypted; never printed)")
	fl.StringVar(&o.SecretName, "secret-name", tlscomp.DefaultManualSecret, "Secret in istio-system holding the manual certificate")
	fl.BoolVar(&o.Wildcard, "wildcard", false, "Also serve *.DOMAIN (the certificate must cover it; not with --acme)")
	fl.BoolVar(&o.HTTPRedirect, "http-redirect", false, "Redirect port 80 to HTTPS (not with --acme: the challenge is answered on port 80)")
	fl.BoolVar(&o.ACME, "acme", false, "Get the certificate from Let's Encrypt through cert-manager (HTTP-01)")
	fl.StringVar(&o.Email, "email", "", "ACME account contact (expiry notices)")
	fl.StringVar(&o.ACMEServer, "acme-server", "production", "ACME directory: production, staging or an https URL")
	fl.BoolVar(&o.Remove, "remove", false, "Go back to HTTP only: remove the HTTPS server, the challenge exclusion and what tls created")
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, 10*time.Minute)
	cmd.AddCommand(newCmdStatus(f, streams), newCmdUninstall(f, streams))
	return cmd
}

// spec validates the flags and reads the certificate files (exit 2 on bad input).
func (o *Options) specFrom(fl *pflag.FlagSet) (tlscomp.Spec, error) {
	s := tlscomp.Spec{Domain: o.Domain, ACME: o.ACME, Email: o.Email, Wildcard: o.Wildcard, HTTPRedirect: o.HTTPRedirect, SecretName: o.SecretName}
	if fl.Changed("acme-server") || o.ACME {
		s.ACMEServer = o.ACMEServer
	}
	if o.ACME && fl.Changed("secret-name") {
		return s, core.UsageErrorf("--secret-name is for a manual certificate: with --acme the Secret is the Certificate's (kubeflow-domain-cert-<env>)")
	}
	var err error
	if s.CertPEM, err = readFile("--cert", o.CertFile); err != nil {
		return s, err
	}
	if s.KeyPEM, err = readFile("--key", o.KeyFile); err != nil {
		return s, err
	}
	return s, nil
}

func readFile(flag, name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, core.UsageErrorf("%s %s: cannot read it (%v)", flag, name, unwrapPath(err))
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Validate checks the flags and the certificate files, without the cluster (exit 2); warnings
// (a certificate expiring soon) go to stderr.
func (o *Options) Validate(fl *pflag.FlagSet) error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	if o.Remove {
		if o.Domain != "" || o.CertFile != "" || o.KeyFile != "" || o.ACME || o.Email != "" {
			return core.UsageErrorf("--remove takes no --domain, --cert, --key, --acme or --email: it removes whatever tls configured")
		}
		return nil
	}
	spec, err := o.specFrom(fl)
	if err != nil {
		return err
	}
	st, warnings, err := spec.Validate(time.Now())
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintf(o.streams.ErrOut, "warning: tls: %s\n", w)
	}
	o.spec, o.state = spec, st
	return nil
}

// Complete builds the installer on the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	o.installer = &tlscomp.Installer{Clients: clients, Progress: output.NewProgress(o.streams.ErrOut), DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout}
	return nil
}

// Run converges (or removes) and prints the report.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	var rep *output.Report
	var err error
	if o.Remove {
		rep, err = o.installer.Remove(ctx)
	} else {
		rep, err = o.installer.Apply(ctx, o.spec, o.state)
	}
	o.installer.Progress.Done()
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}

func newCmdStatus(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "status [-o table|json|yaml]",
		Short: "Domain, mode, issuer, Ready, expiry, renewal time, served Secret, and whether the ACME challenge path is open",
		Example: `  kubectl flexigrobots tls status
  kubectl flexigrobots tls status -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.Validate(format, output.Table, output.JSON, output.YAML); err != nil {
				return err
			}
			clients, err := kube.NewClients(f)
			if err != nil {
				return fmt.Errorf("tls status: %w", err)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			st, err := tlscomp.ReadStatus(ctx, clients)
			if err != nil {
				return fmt.Errorf("tls status: %w", err)
			}
			if format != output.Table {
				return output.Print(streams.Out, format, st)
			}
			return printStatus(streams.Out, st)
		},
	}
	cmdutil.AddOutputFlag(cmd, &format, output.Table, output.JSON, output.YAML)
	return cmd
}

func printStatus(w io.Writer, st *tlscomp.Status) error {
	if !st.Configured {
		_, err := fmt.Fprintln(w, "TLS is not configured: Kubeflow is served over HTTP only (run `kubectl flexigrobots tls --domain D ...`)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "DOMAIN\tMODE\tISSUER\tREADY\tNOT-AFTER\tRENEWAL\tSECRET\tCHALLENGE-PATH")
	ready := fmt.Sprint(st.Ready)
	if !st.Ready && st.Reason != "" {
		ready = "false (" + st.Reason + ")"
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", dash(st.Domain), dash(st.Mode), dash(st.Issuer), ready,
		when(st.NotAfter), when(st.RenewalTime), secret(st), dash(st.ChallengePath))
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func secret(st *tlscomp.Status) string {
	if st.GatewaySecret == "" {
		return "-"
	}
	s := "istio-system/" + st.GatewaySecret
	if !st.SecretExists {
		s += " (missing)"
	}
	return strings.TrimSpace(s)
}
