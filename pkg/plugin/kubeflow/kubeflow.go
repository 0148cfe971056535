// Package kubeflow implements `kubectl flexigrobots kubeflow` (the runbook section "Kubeflow
// installation" in one idempotent pass, with preflight) and `kubeflow render` (the edited, built
// manifests on stdout, for GitOps).
package kubeflow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// EditFlags are the flags `kubeflow` and `kubeflow render` share.
type EditFlags struct {
	Version          string
	Manifests        string
	OIDCProvider     string
	RegistrationFlow bool
	IngressType      string
	DexIssuer        string
	GitHubClientID   string
	GitHubSecretFile string
	GitHubOrg        string
	GitHubTeams      []string
	GitHubRedirect   string
	PasswordDB       bool
	ExampleUser      bool
	ContainerRuntime string
	NoCache          bool

	passwordDBSet bool
}

// add registers the edit flags on cmd, with the completion of their fixed values.
func (e *EditFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	defer func() {
		_ = cmd.RegisterFlagCompletionFunc("version", cobra.FixedCompletions(kubeflow.Versions(), cobra.ShellCompDirectiveNoFileComp))
		_ = cmd.RegisterFlagCompletionFunc("ingress-service-type", cobra.FixedCompletions([]string{"LoadBalancer", "NodePort", "ClusterIP"}, cobra.ShellCompDirectiveNoFileComp))
		_ = cmd.RegisterFlagCompletionFunc("container-runtime", cobra.FixedCompletions([]string{"docker", "containerd"}, cobra.ShellCompDirectiveNoFileComp))
	}()
	fl.StringVar(&e.Version, "version", "", "Kubeflow manifests version: one of "+strings.Join(kubeflow.Versions(), ", ")+" (default: v1.5.0 on Kubernetes <= 1.21, v1.10.2 above)")
	fl.StringVar(&e.Manifests, "manifests", "", "Manifests instead of the GitHub tag archive, used as given (no pinned digest): a kubeflow/manifests checkout folder, a .tar.gz of it, or an http(s) mirror URL")
	fl.StringVar(&e.OIDCProvider, "oidc-provider", "", "OIDC issuer URL the auth proxy trusts (v1.5 OIDC_PROVIDER, v1.10 oidc_issuer_url)")
	fl.BoolVar(&e.RegistrationFlow, "registration-flow", false, "Let new users create their profile namespace (CD_REGISTRATION_FLOW=true)")
	fl.StringVar(&e.IngressType, "ingress-service-type", "", "Service type of istio-ingressgateway: LoadBalancer (an IP from the lb section), NodePort or ClusterIP (default: the type the manifests ship)")
	fl.StringVar(&e.DexIssuer, "dex-issuer", "", "Dex issuer URL (e.g. https://kubeflow.example.com/dex)")
	fl.StringVar(&e.GitHubClientID, "github-client-id", "", "GitHub OAuth app client ID: adds dex's GitHub connector")
	fl.StringVar(&e.GitHubSecretFile, "github-client-secret-file", "", "File holding the GitHub OAuth app client secret, or - for stdin (kept in Secret auth/"+kubeflow.GitHubSecretName+", never printed)")
	fl.StringVar(&e.GitHubOrg, "github-org", "", "GitHub organization whose members may log in")
	fl.StringArrayVar(&e.GitHubTeams, "github-team", nil, "GitHub team of --github-org allowed to log in (repeatable)")
	fl.StringVar(&e.GitHubRedirect, "github-redirect-uri", "", "Callback URL registered in the GitHub OAuth app (https://HOST/dex/callback)")
	fl.BoolVar(&e.PasswordDB, "enable-password-db", false, "Keep dex's password database and static example user (when not given: off with a GitHub connector, kept otherwise)")
	fl.BoolVar(&e.ExampleUser, "example-user", false, "Keep dex's static example user with Kubeflow's published password (default: a generated password, read from Secret "+kubeflow.DexUserNamespace+"/"+kubeflow.DexUserSecret+"); warns on a LoadBalancer gateway")
	fl.BoolVar(&e.NoCache, "no-cache", false, "Build the manifests even when the build cache (in the user cache dir) holds this build")
	fl.StringVar(&e.ContainerRuntime, "container-runtime", "", "v1.5 only: nodes' container runtime (docker or containerd) to pick the pipelines variant; default: read from the nodes")
}

// edits validates the flags (exit 2) and reads the GitHub client secret. Without --version the
// profile is left empty: the server's version picks it (kubeflow.ResolveVersion).
func (e *EditFlags) edits(fl *pflag.FlagSet, stdin io.Reader) (kubeflow.Profile, kubeflow.Edits, error) {
	var p kubeflow.Profile
	var err error
	if e.Version != "" {
		if p, err = kubeflow.ProfileFor(e.Version); err != nil {
			return p, kubeflow.Edits{}, err
		}
	}
	ed := kubeflow.Edits{OIDCProvider: e.OIDCProvider, RegistrationFlow: e.RegistrationFlow, IngressServiceType: e.IngressType, DexIssuer: e.DexIssuer, ContainerRuntime: e.ContainerRuntime, ExampleUser: e.ExampleUser}
	switch e.IngressType {
	case "", "LoadBalancer", "NodePort", "ClusterIP":
	default:
		return p, ed, core.UsageErrorf("invalid --ingress-service-type %q: use LoadBalancer, NodePort or ClusterIP (the values are case-sensitive, as in a Service's spec.type)", e.IngressType)
	}
	for _, u := range []struct{ flag, v string }{{"--oidc-provider", e.OIDCProvider}, {"--dex-issuer", e.DexIssuer}, {"--github-redirect-uri", e.GitHubRedirect}} {
		if u.v != "" && !strings.HasPrefix(u.v, "http://") && !strings.HasPrefix(u.v, "https://") {
			return p, ed, core.UsageErrorf("invalid %s %q: want an http(s) URL, e.g. https://kubeflow.example.com/dex", u.flag, u.v)
		}
	}
	if fl.Changed("enable-password-db") {
		v := e.PasswordDB
		ed.PasswordDB = &v
	}
	gh := e.GitHubClientID != "" || e.GitHubSecretFile != "" || e.GitHubOrg != "" || len(e.GitHubTeams) > 0 || e.GitHubRedirect != ""
	if !gh {
		return p, ed, nil
	}
	var missing []string
	for _, m := range []struct{ flag, v string }{{"--github-client-id", e.GitHubClientID}, {"--github-client-secret-file", e.GitHubSecretFile}, {"--github-org", e.GitHubOrg}, {"--github-redirect-uri", e.GitHubRedirect}} {
		if m.v == "" {
			missing = append(missing, m.flag)
		}
	}
	if len(missing) > 0 {
		return p, ed, core.UsageErrorf("the GitHub connector also needs %s", strings.Join(missing, ", "))
	}
	var secret []byte
	if e.GitHubSecretFile == "-" {
		secret, err = io.ReadAll(stdin)
	} else {
		secret, err = os.ReadFile(e.GitHubSecretFile)
	}
	if err != nil {
		return p, ed, core.UsageErrorf("--github-client-secret-file: %v", err)
	}
	secret = bytes.TrimSpace(secret)
	if len(secret) == 0 {
		return p, ed, core.UsageErrorf("--github-client-secret-file %s is empty: put the GitHub OAuth app's client secret in it", e.GitHubSecretFile)
	}
	ed.GitHub = &kubeflow.GitHub{ClientID: e.GitHubClientID, Org: e.GitHubOrg, Teams: e.GitHubTeams, RedirectURI: e.GitHubRedirect, ClientSecret: secret}
	return p, ed, nil
}

// build picks the version when not given, then loads and edits the manifests.
func (e *EditFlags) build(ctx context.Context, f *kube.Factory, p kubeflow.Profile, ed kubeflow.Edits, progress *output.Progress) (*kubeflow.Built, error) {
	c, cerr := kube.NewClients(f)
	if p.Version == "" {
		if errors.Is(cerr, kube.ErrNoCluster) {
			return nil, cerr
		}
		if cerr != nil {
			return nil, core.UsageErrorf("kubeflow: no --version given and the cluster cannot be asked which fits (%v): give --version with one of %s", cerr, strings.Join(kubeflow.Versions(), ", "))
		}
		var err error
		if p, err = kubeflow.ResolveVersion(c, progress, ""); err != nil {
			return nil, core.UsageErrorf("kubeflow: no --version given and the cluster cannot be asked which fits (%v): give --version with one of %s", err, strings.Join(kubeflow.Versions(), ", "))
		}
	}
	return kubeflow.BuildFor(ctx, c, progress, p, e.Manifests, ed, e.NoCache)
}

// Options holds the flags of `kubeflow`.
type Options struct {
	cmdutil.MutatingFlags
	EditFlags
	ForceConflicts bool
	ForceApply     bool
	Prune          bool

	spec      kubeflow.Spec
	installer *kubeflow.Installer
	factory   *kube.Factory
	streams   genericiooptions.IOStreams
}

// NewCmdKubeflow builds `kubectl flexigrobots kubeflow` and its `render` subcommand.
func NewCmdKubeflow(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "kubeflow [--version v1.5.0] [--manifests DIR|FILE.tar.gz|URL] [edit flags]",
		Short: "Install Kubeflow in one idempotent pass, with preflight (runbook: Kubeflow installation)",
		Long: `Fetch kubeflow/manifests at a tag (GitHub's tag archive, downloaded once into the user cache and
checked against its pinned sha256: a mismatch is an error naming both digests), or use --manifests as given;
make the runbook's edits on the tree in memory (OIDC provider, registration flow, ingress Service type,
dex issuer and GitHub connector), build it in process with the kustomize API, check the cluster can
take it (kinds served, default StorageClass, no CRD dropping a version the cluster still stores,
CSR signing, capacity: exit 2 with the list, nothing changed; a re-run within a day of a passed CSR
probe on the same server skips that probe and says so), apply everything in one ordered pass, prune
what an earlier run applied that this build no longer has (--prune=false keeps it), and wait for
every workload and for the custom resources and Jobs the run changed (kstatus's generic rules).

Kubeflow's publicly known OIDC client secret is replaced with a generated one, kept in Secrets that
this command owns (reused on re-runs). The GitHub client secret goes into Secret auth/dex-github-client
and reaches dex by environment reference, never into its ConfigMap. Neither is in "kubeflow render".
Run it again and every object is "unchanged".`,
		Example: `  # The runbook's install on its Kubernetes 1.21 cluster, with GitHub login for an organization
  kubectl flexigrobots kubeflow --registration-flow --ingress-service-type LoadBalancer \
    --dex-issuer https://kubeflow.example.com/dex --github-client-id 0123abcd \
    --github-client-secret-file gh-secret.txt --github-org my-org --github-team ml \
    --github-redirect-uri https://kubeflow.example.com/dex/callback

  # A current cluster
  kubectl flexigrobots kubeflow --version v1.10.2

  # The same edits as a file for GitOps
  kubectl flexigrobots kubeflow render --version v1.10.2 --registration-flow > kubeflow.yaml`,
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
	o.EditFlags.add(cmd)
	cmd.Flags().BoolVar(&o.Prune, "prune", true, "Delete the objects an earlier run applied that this build no longer has (e.g. the GitHub client Secret once the --github-* flags are dropped); --prune=false keeps them")
	cmd.Flags().BoolVar(&o.ForceConflicts, "force-conflicts", false, "Take over fields another field manager owns (like kubectl apply --server-side --force-conflicts)")
	cmd.Flags().BoolVar(&o.ForceApply, "force-apply", false, "Send every object as a server-side apply, even those the last run's apply record says are unchanged, and record them anew (the escape hatch for a re-run that skips what it should not)")
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, 30*time.Minute)
	cmd.AddCommand(newCmdRender(f, streams), newCmdUninstall(f, streams))
	return cmd
}

// Validate checks the flags and reads the GitHub client secret, without the cluster (exit 2).
func (o *Options) Validate(fl *pflag.FlagSet) error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	p, ed, err := o.edits(fl, o.streams.In)
	if err != nil {
		return err
	}
	o.spec = kubeflow.Spec{Version: p.Version, Manifests: o.Manifests, Edits: ed, NoBuildCache: o.NoCache}
	return nil
}

// Complete builds the installer on the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("kubeflow: %w", err)
	}
	o.installer = &kubeflow.Installer{Clients: clients, Progress: output.NewProgress(o.streams.ErrOut), DryRun: o.DryRun,
		Wait: o.Wait, Timeout: o.Timeout, ForceConflicts: o.ForceConflicts, ForceApply: o.ForceApply, Prune: o.Prune}
	return nil
}

// Run builds, converges and prints the report (also what was done before an error).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := o.installer.Install(ctx, o.spec)
	if err != nil && rep != nil {
		rep.Notes = nil // what was edited and where the dashboard is: news of a finished run only
	}
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}

func newCmdRender(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	e := &EditFlags{}
	var includeSecrets bool
	cmd := &cobra.Command{
		Use:   "render [--version V] [flags]",
		Short: "Print the edited, built manifests (the runbook's kubeflow.yaml) without changing the cluster",
		Example: `  # The build "kubeflow" would apply, for review or GitOps
  kubectl flexigrobots kubeflow render --version v1.10.2 > kubeflow.yaml

  # From a local mirror of kubeflow/manifests, with the runbook's edits
  kubectl flexigrobots kubeflow render --version v1.10.2 --manifests ./manifests-1.10.2.tar.gz \
    --registration-flow --ingress-service-type LoadBalancer > kubeflow.yaml`,
		Long: `Print exactly the objects "kubectl flexigrobots kubeflow" applies with the same flags, as one YAML
stream, for GitOps. The edits made are listed on stderr. Not printed: the Secrets holding the OIDC
client secret and the GitHub client secret, which "kubeflow" creates (generated, reused on re-runs):
create them yourself when applying this file with another tool. The manifests' own Secrets (e.g.
the pipelines object store's credentials) are left out too, named on stderr, unless
--include-secrets asks for them: their data would be printed in clear. When the cluster can be read, the
Gateway and auth allow-list carry what "tls" recorded there (its HTTPS server, the ACME exclusion),
as "kubeflow" applies them.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			p, ed, err := e.edits(cmd.Flags(), streams.In)
			if err != nil {
				return err
			}
			progress := output.NewProgress(streams.ErrOut)
			b, err := e.build(ctx, f, p, ed, progress)
			if err != nil {
				return err
			}
			if c, err := kube.NewClients(f); err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err = kubeflow.RenderTLS(rctx, c.Client, b)
				cancel()
				if err != nil {
					progress.Logf("warning: kubeflow render: cannot read the TLS state `tls` recorded (%v): the Gateway is rendered without HTTPS", err)
				}
			}
			for _, x := range b.Edits {
				progress.Logf("edit %s: %s", x.File, x.What)
			}
			progress.Logf("not rendered (created by `kubectl flexigrobots kubeflow` with generated values): Secrets %s",
				strings.Join(kubeflow.ConvergeSecrets(b, ed.GitHub), ", "))
			if b.Profile.DexHash.Name == "" && b.GeneratesDexUser() {
				progress.Logf("note: ConfigMap auth/dex is rendered with the published example password's hash; `kubectl flexigrobots kubeflow` writes the hash of a generated one")
			}
			objs := b.Objects
			if !includeSecrets {
				var secrets []*unstructured.Unstructured
				objs, secrets = kubeflow.SplitSecrets(objs)
				if len(secrets) > 0 {
					progress.Logf("not rendered (their data is in clear; --include-secrets prints them): %s",
						strings.Join(kube.SortedRefs(secrets), ", "))
				}
			}
			return kubeflow.WriteYAML(streams.Out, objs)
		},
	}
	e.add(cmd)
	cmd.Flags().BoolVar(&includeSecrets, "include-secrets", false, "Print the manifests' own Secrets too, their data in clear (for a file you keep as secret as they are)")
	return cmd
}
