// Package kubeflow implements `kubectl flexigrobots kubeflow` (the runbook section "Kubeflow
// installation" in one idempotent pass, with preflight) and `kubeflow render` (the edited, built
// manifests on stdout, for GitOps).
package kubeflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// addSpecFlags registers the flags of the Spec on cmd (`kubeflow` and `kubeflow render` share
// them), bound into s, with the completion of their fixed values. s.GitHub is set to the
// connector the --github-* flags fill (githubGiven drops it when none is given).
func addSpecFlags(cmd *cobra.Command, s *kubeflow.Spec) {
	fl := cmd.Flags()
	defer func() {
		_ = cmd.RegisterFlagCompletionFunc("version", cobra.FixedCompletions(kubeflow.Versions(), cobra.ShellCompDirectiveNoFileComp))
		_ = cmd.RegisterFlagCompletionFunc("ingress-service-type", cobra.FixedCompletions(kubeflow.IngressServiceTypes, cobra.ShellCompDirectiveNoFileComp))
		_ = cmd.RegisterFlagCompletionFunc("container-runtime", cobra.FixedCompletions(kubeflow.ContainerRuntimes, cobra.ShellCompDirectiveNoFileComp))
	}()
	s.GitHub = &kubeflow.GitHubSpec{}
	gh := s.GitHub
	fl.StringVar(&s.Version, "version", "", "Kubeflow manifests version: one of "+strings.Join(kubeflow.Versions(), ", ")+" (default: the release the version matrix picks for the server's Kubernetes version; see `kubectl flexigrobots releases`)")
	fl.StringVar(&s.RemoteBasesMirror, "remote-bases-mirror", "", "Fetch the remote kustomize bases a release's build reaches (v1.11.0 and 26.03: argo-workflows, jobset) from this folder or http(s) base URL instead of GitHub, e.g. a folder holding argo-workflows-3.7.3.tar.gz, lws-0.7.0.tar.gz and jobset-v0.10.1-manifests.yaml")
	fl.StringVar(&s.Manifests, "manifests", "", "Manifests instead of the GitHub tag archive, used as given (no pinned digest): a kubeflow/manifests checkout folder, a .tar.gz of it, or an http(s) mirror URL")
	fl.StringVar(&s.ManifestsMirror, "manifests-mirror", "", "Folder or http(s) base URL holding kubeflow/manifests tag archives by tag (v1.11.0.tar.gz, 26.03.tar.gz), checked against the pinned digests: used instead of GitHub for the release built (unless --manifests) and for every release an upgrade passes through")
	fl.StringVar(&s.OIDCProvider, "oidc-provider", "", "OIDC issuer URL the auth proxy trusts (v1.5 OIDC_PROVIDER, v1.10 oidc_issuer_url)")
	fl.BoolVar(&s.RegistrationFlow, "registration-flow", false, "Let new users create their profile namespace (CD_REGISTRATION_FLOW=true)")
	fl.StringVar(&s.IngressServiceType, "ingress-service-type", "", "Service type of istio-ingressgateway: LoadBalancer (an IP from the lb section), NodePort or ClusterIP (default: the type the manifests ship)")
	fl.StringVar(&s.DexIssuer, "dex-issuer", "", "Dex issuer URL (e.g. https://kubeflow.example.com/dex)")
	fl.StringVar(&gh.ClientID, "github-client-id", "", "GitHub OAuth app client ID: adds dex's GitHub connector")
	fl.StringVar(&gh.ClientSecretFile, "github-client-secret-file", "", "File holding the GitHub OAuth app client secret, or - for stdin (kept in Secret auth/"+kubeflow.GitHubSecretName+", never printed)")
	fl.StringVar(&gh.Org, "github-org", "", "GitHub organization whose members may log in")
	fl.StringArrayVar(&gh.Teams, "github-team", nil, "GitHub team of --github-org allowed to log in (repeatable)")
	fl.StringVar(&gh.RedirectURI, "github-redirect-uri", "", "Callback URL registered in the GitHub OAuth app (https://HOST/dex/callback)")
	fl.Var(optionalBool{&s.EnablePasswordDB}, "enable-password-db", "Keep dex's password database and static example user (when not given: off with a GitHub connector, kept otherwise)")
	fl.Lookup("enable-password-db").NoOptDefVal = "true"
	fl.BoolVar(&s.ExampleUser, "example-user", false, "Keep dex's static example user with Kubeflow's published password (default: a generated password, read from Secret "+kubeflow.DexUserNamespace+"/"+kubeflow.DexUserSecret+"); warns on a LoadBalancer gateway")
	fl.BoolVar(&s.NoBuildCache, "no-cache", false, "Build the manifests even when the build cache (in the user cache dir) holds this build")
	fl.StringVar(&s.ContainerRuntime, "container-runtime", "", "v1.5 only: nodes' container runtime (docker or containerd) to pick the pipelines variant; default: read from the nodes")
	cmdutil.AddImageRegistryFlags(cmd, &s.Registry)
}

// validateSpec checks the Spec the flags filled and reads the files it names (the GitHub client
// secret: a file, or stdin for -), every problem with its flag (exit 2).
func validateSpec(s *kubeflow.Spec, stdin io.Reader) error {
	if s.GitHub.IsZero() {
		s.GitHub = nil // no --github-* flag: no connector
	}
	s.Default()
	s.SetStdin(stdin)
	ps := s.Validate()
	if len(ps) == 0 {
		ps = s.Load() // only a valid spec reads its files (stdin among them)
	}
	return ps.UsageError(flagOf)
}

// flagOf names the flag of a field of the kubeflow block.
func flagOf(field string) string {
	if f, ok := cmdutil.ImageRegistryFlag(field); ok {
		return f
	}
	if i := strings.IndexByte(field, '['); i >= 0 {
		field = field[:i]
	}
	if f, ok := flags[field]; ok {
		return f
	}
	return field
}

// flags are the kubeflow block's fields and their flags.
var flags = map[string]string{
	"version": "--version", "manifests": "--manifests", "manifestsMirror": "--manifests-mirror", "remoteBasesMirror": "--remote-bases-mirror", "oidcProvider": "--oidc-provider",
	"registrationFlow": "--registration-flow", "ingressServiceType": "--ingress-service-type",
	"dexIssuer": "--dex-issuer", "enablePasswordDB": "--enable-password-db", "exampleUser": "--example-user",
	"containerRuntime": "--container-runtime", "forceConflicts": "--force-conflicts",
	"github.clientID": "--github-client-id", "github.clientSecretFile": "--github-client-secret-file",
	"github.org": "--github-org", "github.teams": "--github-team", "github.redirectURI": "--github-redirect-uri",
}

// optionalBool binds a boolean flag to a *bool that stays nil unless the flag is given.
type optionalBool struct{ p **bool }

func (b optionalBool) String() string {
	if b.p == nil || *b.p == nil {
		return "false"
	}
	return strconv.FormatBool(**b.p)
}

func (b optionalBool) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	*b.p = &x
	return nil
}

func (b optionalBool) Type() string { return "bool" }

// buildForRender picks the version when not given (a usage error when the cluster cannot say
// which fits), then loads and edits the manifests.
func buildForRender(ctx context.Context, f *kube.Factory, s *kubeflow.Spec, progress *output.Progress) (*kubeflow.Built, error) {
	c, cerr := kube.NewClients(f)
	p := kubeflow.Profile{}
	var err error
	if s.Version != "" {
		if p, err = kubeflow.ProfileFor(s.Version); err != nil {
			return nil, err
		}
	} else {
		if errors.Is(cerr, kube.ErrNoCluster) {
			return nil, cerr
		}
		if cerr != nil {
			return nil, core.UsageErrorf("kubeflow: no --version given and the cluster cannot be asked which fits (%v): give --version with one of %s", cerr, strings.Join(kubeflow.Versions(), ", "))
		}
		if p, err = kubeflow.ResolveVersion(c, progress, ""); err != nil {
			if core.IsUsageError(err) {
				return nil, err // no release installs on this cluster: the error names the nearest
			}
			return nil, core.UsageErrorf("kubeflow: no --version given and the cluster cannot be asked which fits (%v): give --version with one of %s", err, strings.Join(kubeflow.Versions(), ", "))
		}
	}
	return kubeflow.BuildFor(ctx, c, progress, p, s)
}

// Options holds the flags of `kubeflow`: the Spec's, and the run's.
type Options struct {
	cmdutil.MutatingFlags
	// ForceApply is --force-apply (section.Run.ForceApply).
	ForceApply bool

	spec    kubeflow.Spec
	prune   bool
	plan    bool
	run     *section.Run
	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdKubeflow builds `kubectl flexigrobots kubeflow` and its `render` subcommand.
func NewCmdKubeflow(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdKubeflow(&Options{factory: f, streams: streams})
}

// newCmdKubeflow is `kubeflow` with its flags bound into o.
func newCmdKubeflow(o *Options) *cobra.Command {
	f, streams := o.factory, o.streams
	cmd := &cobra.Command{
		Use:   "kubeflow [--version RELEASE] [--manifests DIR|FILE.tar.gz|URL] [edit flags]",
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

Over an older release it upgrades hop by hop along the path upstream supports (v1.9.1 → v1.10.2 →
v1.11.0 → 26.03): each hop builds its release (--manifests-mirror, else GitHub), runs the migrations
upstream's upgrade notes ask for, converges, waits and records the release; claims are never pruned,
nor Training Operator v1 while v1 jobs exist. At the move to SeaweedFS (v1.11.0) a Job copies the
pipelines' artifacts from MinIO, whose server goes only once the Job has succeeded (its claim stays). A hop
that fails leaves the cluster at the last finished one and a re-run goes on from there. --plan prints
the hops and what each creates, changes, prunes and keeps, and changes nothing. A downgrade, and
v1.5.0 (no in-place path off Kubernetes 1.21), exit 2.

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

  # Every image pulled from the mirror "images mirror --to" filled, also the pods Kubeflow starts
  kubectl flexigrobots kubeflow --version v1.10.2 \
    --image-registry mirror.example:5000/ai --image-pull-secret mirror-pull

  # What an upgrade to 26.03 would do, hop by hop (changes nothing), then the upgrade
  kubectl flexigrobots kubeflow --version 26.03 --plan
  kubectl flexigrobots kubeflow --version 26.03 --manifests-mirror https://mirror.example.com/kubeflow-manifests

  # The same edits as a file for GitOps
  kubectl flexigrobots kubeflow render --version v1.10.2 --registration-flow > kubeflow.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	addSpecFlags(cmd, &o.spec)
	cmd.Flags().BoolVar(&o.plan, "plan", false, "Print the upgrade from the release installed to --version (or the one that fits): each hop, and per hop the migrations, what is created, changed, pruned and kept; change nothing")
	cmd.Flags().BoolVar(&o.prune, "prune", true, "Delete the objects an earlier run applied that this build no longer has (e.g. the GitHub client Secret once the --github-* flags are dropped); --prune=false keeps them")
	cmd.Flags().BoolVar(&o.spec.ForceConflicts, "force-conflicts", false, cmdutil.ForceConflictsHelp)
	cmd.Flags().BoolVar(&o.ForceApply, "force-apply", false, "Send every object as a server-side apply, even those the last run's apply record says are unchanged, and record them anew (the escape hatch for a re-run that skips what it should not)")
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, kubeflow.DefaultTimeout)
	cmd.AddCommand(newCmdRender(f, streams), newCmdUninstall(f, streams))
	return cmd
}

// Validate checks the flags and reads the GitHub client secret, without the cluster (exit 2).
func (o *Options) Validate() error {
	if o.plan && (o.DryRun.Active() || o.Diff) {
		return core.UsageErrorf("--plan changes nothing already: leave --dry-run and --diff out")
	}
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	o.spec.NoPrune = !o.prune
	return validateSpec(&o.spec, o.streams.In)
}

// Complete builds the run on the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("kubeflow: %w", err)
	}
	o.run = &section.Run{Clients: clients, Progress: output.NewProgress(o.streams.ErrOut), DryRun: o.DryRun,
		Wait: o.Wait, Timeout: o.Timeout, ForceApply: o.ForceApply}
	return nil
}

// Run builds, converges (within --timeout, then the post-conditions) and prints the report (also
// what was done before an error).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	// A version given that cannot install on this cluster: exit 2 before any download or change.
	if err := kubeflow.Section.Prepare(ctx, o.run, &o.spec); err != nil {
		if !core.IsUsageError(err) {
			return err
		}
		return core.UsageErrorf("%s", core.Render(core.Unexit(err).Error(), flagOf))
	}
	if o.plan {
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		plan, err := kubeflow.PlanUpgrade(ctx, o.run, &o.spec)
		if err != nil {
			return err
		}
		return printPlan(o.streams.Out, o.Output, plan)
	}
	rep, err := section.Apply(ctx, kubeflow.Section, o.run, &o.spec)
	if err != nil && rep != nil {
		rep.Notes = nil // what was edited and where the dashboard is: news of a finished run only
	}
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Output, rep, err)
}

func newCmdRender(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	spec := &kubeflow.Spec{}
	var includeSecrets bool
	cmd := &cobra.Command{
		Use:   "render [--version V] [flags]",
		Short: "Print the edited, built manifests (the runbook's kubeflow.yaml) without changing the cluster",
		Example: `  # The build "kubeflow" would apply, for review or GitOps
  kubectl flexigrobots kubeflow render --version v1.10.2 > kubeflow.yaml

  # From a local mirror of kubeflow/manifests, with the runbook's edits
  kubectl flexigrobots kubeflow render --version v1.10.2 --manifests ./manifests-1.10.2.tar.gz \
    --registration-flow --ingress-service-type LoadBalancer > kubeflow.yaml

  # The images rewritten to the mirror "images mirror --to" filled
  kubectl flexigrobots kubeflow render --version v1.10.2 --image-registry mirror.example:5000/ai > kubeflow.yaml`,
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
			if err := validateSpec(spec, streams.In); err != nil {
				return err
			}
			progress := output.NewProgress(streams.ErrOut)
			b, err := buildForRender(ctx, f, spec, progress)
			if err != nil {
				return err
			}
			if c, err := kube.NewClients(f); err == nil {
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				_, err = kubeflow.RenderTLS(rctx, c, b)
				cancel()
				if err != nil {
					progress.Logf("warning: kubeflow render: cannot read the TLS state `tls` recorded (%v): the Gateway is rendered without HTTPS", err)
				}
			}
			for _, x := range b.Edits {
				progress.Logf("edit %s: %s", x.File, x.What)
			}
			if err := spec.Registry.Rewrite(b.Objects); err != nil {
				return fmt.Errorf("kubeflow render: image registry: %w", err)
			}
			progress.Logf("not rendered (created by `kubectl flexigrobots kubeflow` with generated values): Secrets %s",
				strings.Join(kubeflow.ConvergeSecrets(b, spec.Edits().GitHub), ", "))
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
	addSpecFlags(cmd, spec)
	cmd.Flags().BoolVar(&includeSecrets, "include-secrets", false, "Print the manifests' own Secrets too, their data in clear (for a file you keep as secret as they are)")
	return cmd
}

// IsBoolFlag lets the flag be given without a value, as a bool flag.
func (b optionalBool) IsBoolFlag() bool { return true }
