package kubeflow

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// Defaults of the kubeflow command's run (the Spec itself has none: a version left out is
// picked from the server at Build, an ingress type left out is the one the manifests ship).
const (
	// DefaultTimeout is `kubeflow --timeout`.
	DefaultTimeout = 30 * time.Minute
	// DefaultUninstallTimeout is `kubeflow uninstall --timeout`.
	DefaultUninstallTimeout = 10 * time.Minute
)

// IngressServiceTypes are the values of ingressServiceType (case-sensitive, as a Service's
// spec.type).
var IngressServiceTypes = []string{"LoadBalancer", "NodePort", "ClusterIP"}

// ContainerRuntimes are the values offered for containerRuntime (v1.5's pipelines variant).
var ContainerRuntimes = []string{"docker", "containerd"}

// Spec is the kubeflow section: its block of the platform file, and what `kubectl
// flexigrobots kubeflow`'s flags fill.
type Spec struct {
	// Version of the manifests (Versions); empty picks the one that fits the server.
	Version string `json:"version,omitempty"`
	// Manifests replaces the GitHub tag archive: a kubeflow/manifests checkout folder, a
	// .tar.gz of it, or an http(s) mirror URL (see Source.Manifests).
	Manifests string `json:"manifests,omitempty"`
	// ManifestsMirror holds the releases' GitHub tag archives by tag name (v1.10.2.tar.gz,
	// 26.03.tar.gz): a local folder or an http(s) base URL, used instead of GitHub for the
	// release built when Manifests is empty and for every release an upgrade passes through;
	// checked against the same pinned digests (Source.ManifestsMirror).
	ManifestsMirror string `json:"manifestsMirror,omitempty"`
	// RemoteBasesMirror serves the remote kustomize bases a release's build reaches (v1.11.0 and
	// 26.03: argo-workflows, jobset) from a local folder or an http(s) base URL instead of
	// GitHub (pkg/kustomize.Remotes names the files it holds).
	RemoteBasesMirror string `json:"remoteBasesMirror,omitempty"`
	// OIDCProvider is the issuer URL the auth proxy trusts (v1.5 OIDC_PROVIDER, v1.10
	// oidc_issuer_url).
	OIDCProvider string `json:"oidcProvider,omitempty"`
	// RegistrationFlow lets new users create their profile namespace (CD_REGISTRATION_FLOW).
	RegistrationFlow bool `json:"registrationFlow,omitempty"`
	// IngressServiceType is istio-ingressgateway's Service type (IngressServiceTypes); empty
	// keeps the manifests' own.
	IngressServiceType string `json:"ingressServiceType,omitempty"`
	// DexIssuer is dex's issuer URL.
	DexIssuer string `json:"dexIssuer,omitempty"`
	// EnablePasswordDB is dex's enablePasswordDB; nil: off with a GitHub connector, on otherwise.
	EnablePasswordDB *bool `json:"enablePasswordDB,omitempty"`
	// ExampleUser keeps dex's static example user with Kubeflow's published password.
	ExampleUser bool `json:"exampleUser,omitempty"`
	// ContainerRuntime of the nodes (v1.5 only); empty: read from the nodes.
	ContainerRuntime string `json:"containerRuntime,omitempty"`
	// ForceConflicts takes over fields another field manager owns.
	ForceConflicts bool `json:"forceConflicts,omitempty"`
	// GitHub adds dex's GitHub connector.
	GitHub *GitHubSpec `json:"github,omitempty"`
	// Registry is where Kubeflow's pods pull their images from, also the ones its controllers
	// start at run time (imageRegistry, imagePullSecrets; --image-registry, --image-pull-secret).
	images.Registry

	// NoBuildCache builds even when the build cache holds this build (`kubeflow --no-cache`;
	// not in the file).
	NoBuildCache bool `json:"-"`
	// NoPrune keeps what an earlier run applied that this build no longer has (`kubeflow
	// --prune=false`; not in the file, which always prunes).
	NoPrune bool `json:"-"`

	// githubSecret is the client secret Load read from GitHub.ClientSecretFile.
	githubSecret []byte
	// stdin is where a ClientSecretFile of "-" is read from (SetStdin; os.Stdin otherwise).
	stdin io.Reader
	// built is what Build made, for Apply.
	built *Built
	// upgrade is what Prepare found: the release installed and the hops to the target.
	upgrade *upgrade
}

// GitHubSpec is dex's GitHub connector; the client secret only as a file.
type GitHubSpec struct {
	// ClientID of the GitHub OAuth app.
	ClientID string `json:"clientID"`
	// ClientSecretFile holds the OAuth app's client secret ("-": stdin, for the command).
	ClientSecretFile string `json:"clientSecretFile"`
	// Org is the GitHub organization whose members may log in.
	Org string `json:"org"`
	// Teams of Org allowed to log in.
	Teams []string `json:"teams,omitempty"`
	// RedirectURI is the callback URL registered in the OAuth app (https://HOST/dex/callback).
	RedirectURI string `json:"redirectURI"`
}

// IsZero tells whether no field of the connector is given.
func (g *GitHubSpec) IsZero() bool {
	return g == nil || (g.ClientID == "" && g.ClientSecretFile == "" && g.Org == "" && len(g.Teams) == 0 && g.RedirectURI == "")
}

// Default fills nothing: the block has no defaults (see DefaultTimeout for the command's).
func (s *Spec) Default() {}

// Validate checks the block alone (no file, no cluster), each problem at its field.
func (s *Spec) Validate() core.Problems {
	var ps core.Problems
	if s.Version != "" {
		if _, err := ProfileFor(s.Version); err != nil {
			ps = append(ps, core.Problemf("version", "unknown Kubeflow version %q: use one of %s (or leave it out for the one that fits the cluster)", s.Version, strings.Join(Versions(), ", ")))
		}
	}
	if t := s.IngressServiceType; t != "" && !contains(IngressServiceTypes, t) {
		ps = append(ps, core.Problemf("ingressServiceType", "invalid %q: use LoadBalancer, NodePort or ClusterIP (the values are case-sensitive, as in a Service's spec.type)", t))
	}
	urls := []struct{ field, v string }{{"oidcProvider", s.OIDCProvider}, {"dexIssuer", s.DexIssuer}}
	if s.GitHub != nil {
		urls = append(urls, struct{ field, v string }{"github.redirectURI", s.GitHub.RedirectURI})
	}
	for _, u := range urls {
		if u.v != "" && !strings.HasPrefix(u.v, "http://") && !strings.HasPrefix(u.v, "https://") {
			ps = append(ps, core.Problemf(u.field, "invalid %q: want an http(s) URL, e.g. https://kubeflow.example.com/dex", u.v))
		}
	}
	if g := s.GitHub; g != nil {
		for _, m := range []struct{ field, v, what string }{
			{"clientID", g.ClientID, "the GitHub OAuth app's client ID"},
			{"clientSecretFile", g.ClientSecretFile, "the file holding the GitHub OAuth app's client secret"},
			{"org", g.Org, "the GitHub organization whose members may log in"},
			{"redirectURI", g.RedirectURI, "the callback URL registered in the GitHub OAuth app (https://HOST/dex/callback)"},
		} {
			if m.v == "" {
				ps = append(ps, core.Problemf("github."+m.field, "is missing, and the GitHub connector needs it: give %s", m.what))
			}
		}
		for i, t := range g.Teams {
			if t == "" {
				ps = append(ps, core.Problemf(fmt.Sprintf("github.teams[%d]", i), "is empty: give a team of {github.org}"))
			}
		}
	}
	return append(ps, s.Registry.Validate()...)
}

// Resolve makes the local paths absolute with abs: the manifests when not a URL, and the GitHub
// client secret file.
func (s *Spec) Resolve(abs func(string) string) {
	if s.Manifests != "" && !strings.Contains(s.Manifests, "://") {
		s.Manifests = abs(s.Manifests)
	}
	if s.RemoteBasesMirror != "" && !strings.Contains(s.RemoteBasesMirror, "://") {
		s.RemoteBasesMirror = abs(s.RemoteBasesMirror)
	}
	if s.ManifestsMirror != "" && !strings.Contains(s.ManifestsMirror, "://") {
		s.ManifestsMirror = abs(s.ManifestsMirror)
	}
	if s.GitHub != nil && s.GitHub.ClientSecretFile != "" {
		s.GitHub.ClientSecretFile = abs(s.GitHub.ClientSecretFile)
	}
}

// SetStdin is where a ClientSecretFile of "-" is read from (the command's input stream).
func (s *Spec) SetStdin(r io.Reader) { s.stdin = r }

// Load reads the GitHub client secret (kept unexported, never printed) and checks that local
// manifests exist, each problem at its field.
func (s *Spec) Load() core.Problems {
	var ps core.Problems
	if m := s.Manifests; m != "" && !strings.Contains(m, "://") {
		if _, err := os.Stat(m); err != nil {
			ps = append(ps, core.Problemf("manifests", "%v: give a kubeflow/manifests checkout folder or .tar.gz, or an http(s) URL", err))
		}
	}
	if m := s.RemoteBasesMirror; m != "" && !strings.Contains(m, "://") {
		if st, err := os.Stat(m); err != nil || !st.IsDir() {
			ps = append(ps, core.Problemf("remoteBasesMirror", "%s is not a folder: give a folder (or an http(s) URL) holding the remote bases' archives, e.g. argo-workflows-3.7.3.tar.gz", m))
		}
	}
	if m := s.ManifestsMirror; m != "" && !strings.Contains(m, "://") {
		if st, err := os.Stat(m); err != nil || !st.IsDir() {
			ps = append(ps, core.Problemf("manifestsMirror", "%s is not a folder: give a folder (or an http(s) URL) holding kubeflow/manifests tag archives by tag, e.g. v1.11.0.tar.gz and 26.03.tar.gz", m))
		}
	}
	if g := s.GitHub; g != nil && g.ClientSecretFile != "" {
		var secret []byte
		var err error
		if g.ClientSecretFile == "-" {
			in := s.stdin
			if in == nil {
				in = os.Stdin
			}
			secret, err = io.ReadAll(in)
		} else {
			secret, err = os.ReadFile(g.ClientSecretFile)
		}
		switch secret = bytes.TrimSpace(secret); {
		case err != nil:
			ps = append(ps, core.Problemf("github.clientSecretFile", "%v", err))
		case len(secret) == 0:
			ps = append(ps, core.Problemf("github.clientSecretFile", "%s is empty: put the GitHub OAuth app's client secret in it", g.ClientSecretFile))
		default:
			s.githubSecret = secret
		}
	}
	return ps
}

// Edits are the runbook's edits the Spec asks for, the GitHub client secret as Load read it.
func (s *Spec) Edits() Edits {
	return Edits{OIDCProvider: s.OIDCProvider, RegistrationFlow: s.RegistrationFlow, IngressServiceType: s.IngressServiceType,
		DexIssuer: s.DexIssuer, GitHub: s.github(), PasswordDB: s.EnablePasswordDB, ExampleUser: s.ExampleUser, ContainerRuntime: s.ContainerRuntime}
}

// github is the connector as the edits take it (nil without one).
func (s *Spec) github() *GitHub {
	g := s.GitHub
	if g == nil {
		return nil
	}
	return &GitHub{ClientID: g.ClientID, Org: g.Org, Teams: g.Teams, RedirectURI: g.RedirectURI, ClientSecret: s.githubSecret}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
