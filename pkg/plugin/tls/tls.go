// Package tls implements `kubectl flexigrobots tls` (runbook section "HTTPS certificate": a manual
// certificate or Let's Encrypt, with authentication kept on) and `tls status`.
package tls

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	tlscomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Options holds the flags of `tls`: --domain and the manual and ACME flags bound straight into
// Spec (the platform file's tls block), --acme and --remove beside it.
type Options struct {
	cmdutil.MutatingFlags
	// Spec is the block the flags fill: --domain; --cert, --key, --secret-name, --wildcard and
	// --http-redirect into Spec.Manual; --email and --acme-server into Spec.ACME. Validate keeps
	// the one --acme selects (both when manual flags come with --acme, so Spec.Validate says
	// which cannot go with it).
	Spec tlscomp.Spec
	// ACME (--acme) selects Spec.ACME; the file names its block instead.
	ACME bool
	// Remove (--remove) goes back to HTTP only: the section's Uninstall.
	Remove bool

	clients  *kube.Clients
	progress *output.Progress
	factory  *kube.Factory
	streams  genericiooptions.IOStreams
}

// NewCmdTLS builds `kubectl flexigrobots tls` and its `status` and `uninstall` subcommands.
func NewCmdTLS(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := newCmd(&Options{factory: f, streams: streams})
	cmd.AddCommand(newCmdStatus(f, streams), newCmdUninstall(f, streams))
	return cmd
}

// newCmd is `tls` with its flags bound into o.
func newCmd(o *Options) *cobra.Command {
	o.Spec = tlscomp.Spec{Manual: &tlscomp.Manual{}, ACME: &tlscomp.ACME{}}
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
	m, a := o.Spec.Manual, o.Spec.ACME
	fl.StringVar(&o.Spec.Domain, "domain", "", "DNS name Kubeflow is served on (its A record points at the ingress gateway)")
	fl.StringVar(&m.CertFile, "cert", "", "PEM certificate file: the leaf first, then the intermediates")
	fl.StringVar(&m.KeyFile, "key", "", "PEM private key file of the certificate (unencrypted; never printed)")
	fl.StringVar(&m.SecretName, "secret-name", tlscomp.DefaultManualSecret, "Secret in istio-system holding the manual certificate")
	fl.BoolVar(&m.Wildcard, "wildcard", false, "Also serve *.DOMAIN (the certificate must cover it; not with --acme)")
	fl.BoolVar(&m.HTTPRedirect, "http-redirect", false, "Redirect port 80 to HTTPS (not with --acme: the challenge is answered on port 80)")
	fl.BoolVar(&o.ACME, "acme", false, "Get the certificate from Let's Encrypt through cert-manager (HTTP-01)")
	fl.StringVar(&a.Email, "email", "", "ACME account contact (expiry notices)")
	fl.StringVar(&a.Server, "acme-server", tlscomp.DefaultACMEServer, "ACME directory: production, staging or an https URL")
	fl.BoolVar(&o.Remove, "remove", false, "Go back to HTTP only: remove the HTTPS server, the challenge exclusion and what tls created")
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, tlscomp.DefaultTimeout)
	cmdutil.AddForceConflictsFlag(cmd, &o.MutatingFlags)
	return cmd
}

// Validate checks the flags, the Spec's rules and the certificate files, without the cluster
// (exit 2). The certificate's dates are Prepare's (in Run, before anything changes).
func (o *Options) Validate(fl *pflag.FlagSet) error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	m, a := o.Spec.Manual, o.Spec.ACME
	if o.Remove {
		if o.Spec.Domain != "" || m.CertFile != "" || m.KeyFile != "" || o.ACME || a.Email != "" {
			return core.UsageErrorf("--remove takes no --domain, --cert, --key, --acme or --email: it removes whatever tls configured")
		}
		return nil
	}
	var ps core.Problems
	if o.ACME {
		if !manualFlagGiven(fl) {
			o.Spec.Manual = nil
		}
	} else {
		if a.Email != "" || (fl.Changed("acme-server") && a.Server != tlscomp.DefaultACMEServer) {
			ps = append(ps, core.Problemf("", "--email and --acme-server are for --acme: add --acme, or drop them to use {manual.certFile}/{manual.keyFile}"))
		}
		o.Spec.ACME = nil
	}
	o.Spec.Default()
	if ps = append(ps, o.Spec.Validate()...); len(ps) == 0 {
		ps = o.Spec.Load()
	}
	return ps.UsageError(flagOf)
}

// manualFlagGiven tells whether a flag of the manual certificate was given.
func manualFlagGiven(fl *pflag.FlagSet) bool {
	for _, name := range []string{"cert", "key", "secret-name", "wildcard", "http-redirect"} {
		if fl.Changed(name) {
			return true
		}
	}
	return false
}

// flags name the fields of the tls block as the command's flags.
var flags = map[string]string{
	"domain":              "--domain",
	"manual":              "--cert/--key",
	"manual.certFile":     "--cert",
	"manual.keyFile":      "--key",
	"manual.secretName":   "--secret-name",
	"manual.wildcard":     "--wildcard",
	"manual.httpRedirect": "--http-redirect",
	"acme":                "--acme",
	"acme.email":          "--email",
	"acme.server":         "--acme-server",
}

// flagOf names a field of the tls block as the command's flag.
func flagOf(field string) string {
	if f, ok := flags[field]; ok {
		return f
	}
	return field
}

// Complete builds the clients on the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	o.clients, o.progress = clients, output.NewProgress(o.streams.ErrOut)
	return nil
}

// Run prepares (the certificate's dates; exit 2 before any change) and applies the section, or
// with --remove uninstalls it, then prints the report.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	run := &section.Run{Clients: o.clients, Progress: o.progress, DryRun: o.DryRun, Wait: o.Wait, Timeout: o.Timeout, ForceConflicts: o.ForceConflicts}
	var rep *output.Report
	var err error
	if o.Remove {
		rep, err = section.Uninstall(ctx, tlscomp.Section, run, &o.Spec, section.UninstallOptions{})
	} else {
		if err := tlscomp.Section.Prepare(ctx, run, &o.Spec); err != nil {
			o.progress.Done()
			return err // nothing was done
		}
		rep, err = section.Apply(ctx, tlscomp.Section, run, &o.Spec)
	}
	o.progress.Done()
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
