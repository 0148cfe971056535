// Package kubeflow installs Kubeflow the way the runbook's section "Kubeflow installation" does,
// in one idempotent pass: fetch the manifests at a tag (cached, verified), make the runbook's
// edits on the manifests tree in memory, build it in process with the kustomize API, check the
// cluster can take it (preflight), apply it with the ordered apply engine and wait for every
// workload. It holds no cobra code (see pkg/plugin/kubeflow).
package kubeflow

import (
	"fmt"
	"sort"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// DefaultVersion is the runbook's Kubeflow version.
const DefaultVersion = "v1.5.0"

// PublicClientSecret is the OIDC client secret every Kubeflow release ships: known to anyone who
// read the manifests, so never left in place.
const PublicClientSecret = "pUBnBOY80SnXgjibTYM9ZWNzY2xreNGQok"

// PublicCookieSecret is oauth2-proxy's published cookie secret (v1.10).
const PublicCookieSecret = "7d16fee92f8d11b8940b081b3f8b8acb"

// ClientSecret is where an auth component reads the OIDC client secret from: a Secret the
// manifests generate (secretGenerator Generator in the kustomization File), which the edits
// remove from the build so that converge owns it with a generated value.
type ClientSecret struct {
	// File is the kustomization.yaml (relative to the tree's top) with the secretGenerator.
	File string
	// Generator is the secretGenerator's name, also the Secret's name once the generator is gone.
	Generator string
	// Namespace is the Secret's namespace.
	Namespace string
	// IDKey and SecretKey are the data keys of the client ID and secret; CookieKey (optional) a
	// cookie secret generated alongside.
	IDKey, SecretKey, CookieKey string
}

// Profile is what differs between Kubeflow versions: where each runbook setting lives in the
// tree and which namespaces hold the workloads to wait for.
type Profile struct {
	Version string
	// ArchiveSHA256 is the sha256 of GitHub's tag archive of the version (DefaultURL): a download
	// from there that differs is refused. GitHub makes tag archives with git archive and gzip -n;
	// the digests below were reproduced that way from the tags and are those of the fixtures.
	ArchiveSHA256 string
	// Top is the archive's top folder (GitHub tag archives: manifests-<version without v>).
	Top string
	// Build is the kustomization to build, relative to Top.
	Build string
	// Namespaces hold every workload of the build.
	Namespaces []string
	// OIDCFile holds the auth proxy's issuer: a params.env (OIDCKey=...) or oauth2_proxy.cfg
	// (OIDCKey = "...").
	OIDCFile, OIDCKey string
	// DashboardParams is the central dashboard's params.env (CD_REGISTRATION_FLOW).
	DashboardParams string
	// DexConfigMap is the file whose ConfigMap dex reads its config.yaml from.
	DexConfigMap string
	// DexHash is the Secret key dex reads the static user's password hash from (hashFromEnv);
	// empty on v1.5, whose dex keeps the hash in config.yaml.
	DexHash SecretKeyRef
	// ClientID is the OIDC client ID the manifests use.
	ClientID string
	// Dex and Proxy are the two ends of the OIDC client secret; ProxyWorkload reads Proxy's.
	Dex, Proxy    ClientSecret
	ProxyWorkload kube.Target
	// Pipelines is the example's Kubeflow Pipelines resource line and PipelinesPNS its variant
	// for nodes without Docker (v1.5 only).
	Pipelines, PipelinesPNS string
	// UserProfile is the example user's Profile package whose $(name) placeholders kustomize v5
	// no longer substitutes (its replacements select the Profile by the placeholder name); the
	// edits fill them in from its params.env ("" when not needed).
	UserProfile string
	// MaxKube is the last Kubernetes minor version serving every API the build uses ("" none).
	MaxKube string
	// ProxyNeedsOIDC: the auth proxy (v1.5's authservice) gets Ready only once its OIDC provider
	// answers, so with an https provider it waits for `tls`.
	ProxyNeedsOIDC bool
}

var profiles = map[string]Profile{
	"v1.5.0": {
		Version: "v1.5.0", Top: "manifests-1.5.0", Build: "example",
		ArchiveSHA256:   "0e760c6f00d356d5a11fa6a31dbf8c9956aadc102f971815e64d82c6bfeacc24",
		Namespaces:      []string{"cert-manager", "istio-system", "auth", "knative-eventing", "knative-serving", "kubeflow"},
		OIDCFile:        "common/oidc-authservice/base/params.env",
		OIDCKey:         "OIDC_PROVIDER",
		DashboardParams: "apps/centraldashboard/upstream/base/params.env",
		DexConfigMap:    "common/dex/base/config-map.yaml",
		ClientID:        "kubeflow-oidc-authservice",
		Dex:             ClientSecret{File: "common/dex/base/kustomization.yaml", Generator: "dex-oidc-client", Namespace: "auth", IDKey: "OIDC_CLIENT_ID", SecretKey: "OIDC_CLIENT_SECRET"},
		Proxy:           ClientSecret{File: "common/oidc-authservice/base/kustomization.yaml", Generator: "oidc-authservice-client", Namespace: "istio-system", IDKey: "CLIENT_ID", SecretKey: "CLIENT_SECRET"},
		ProxyWorkload:   kube.Target{GVR: kube.StatefulSetsGVR, Namespace: "istio-system", Name: "authservice"},
		Pipelines:       "../apps/pipeline/upstream/env/platform-agnostic-multi-user",
		PipelinesPNS:    "../apps/pipeline/upstream/env/platform-agnostic-multi-user-pns",
		MaxKube:         "1.21",
		ProxyNeedsOIDC:  true,
	},
	"v1.10.2": {
		Version: "v1.10.2", Top: "manifests-1.10.2", Build: "example",
		ArchiveSHA256:   "669adac7d0ede70aa70cea665051dd1549f0bf9c91e6081d03682840e1bc3b30",
		Namespaces:      []string{"cert-manager", "istio-system", "auth", "oauth2-proxy", "knative-serving", "kubeflow"},
		OIDCFile:        "common/oauth2-proxy/base/oauth2_proxy.cfg",
		OIDCKey:         "oidc_issuer_url",
		DashboardParams: "applications/centraldashboard/upstream/base/params.env",
		DexConfigMap:    "common/dex/overlays/oauth2-proxy/config-map.yaml",
		DexHash:         SecretKeyRef{Namespace: "auth", Name: "dex-passwords", Key: "DEX_USER_PASSWORD"},
		ClientID:        "kubeflow-oidc-authservice",
		Dex:             ClientSecret{File: "common/dex/base/kustomization.yaml", Generator: "dex-oidc-client", Namespace: "auth", IDKey: "OIDC_CLIENT_ID", SecretKey: "OIDC_CLIENT_SECRET"},
		Proxy:           ClientSecret{File: "common/oauth2-proxy/base/kustomization.yaml", Generator: "oauth2-proxy", Namespace: "oauth2-proxy", IDKey: "client-id", SecretKey: "client-secret", CookieKey: "cookie-secret"},
		ProxyWorkload:   kube.Target{GVR: kube.DeploymentsGVR, Namespace: "oauth2-proxy", Name: "oauth2-proxy"},
		UserProfile:     "common/user-namespace/base",
	},
}

// Versions lists the supported versions, sorted.
func Versions() []string {
	out := make([]string, 0, len(profiles))
	for v := range profiles {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// ProfileFor returns the version's profile; an unknown version is a usage error (exit 2).
func ProfileFor(version string) (Profile, error) {
	if !strings.HasPrefix(version, "v") {
		version = "v" + version
	}
	p, ok := profiles[version]
	if !ok {
		return Profile{}, core.UsageErrorf("unknown Kubeflow version %q: use --version with one of %s", version, strings.Join(Versions(), ", "))
	}
	return p, nil
}

// DefaultURL is the GitHub tag archive of the version.
func (p Profile) DefaultURL() string {
	return fmt.Sprintf("https://github.com/kubeflow/manifests/archive/refs/tags/%s.tar.gz", p.Version)
}
