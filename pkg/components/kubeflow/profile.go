// Package kubeflow installs Kubeflow the way the runbook's section "Kubeflow installation" does,
// in one idempotent pass: fetch the manifests at a tag (cached, verified), make the runbook's
// edits on the manifests tree in memory, build it in process with the kustomize API, check the
// cluster can take it (preflight), apply it with the ordered apply engine and wait for every
// workload. It holds no cobra code (see pkg/plugin/kubeflow).
package kubeflow

import (
	"fmt"
	"sort"
	"strconv"
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
	// Version is the release's tag as GitHub spells it (v1.10.2, 26.03).
	Version string
	// ArchiveSHA256 is the sha256 of GitHub's tag archive of the version (DefaultURL): a download
	// from there that differs is refused. GitHub makes tag archives with git archive and gzip -n;
	// the digests below were reproduced that way from the tags and are those of the fixtures.
	ArchiveSHA256 string
	// Top is the archive's top folder (GitHub tag archives: manifests-<tag without its v>).
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
	// ProxyNeedsOIDC: the auth proxy (v1.5's authservice) gets Ready only once its OIDC provider
	// answers, so with an https provider it waits for `tls`.
	ProxyNeedsOIDC bool
	// SharedWorkloads are the build's workloads in namespaces it shares with the cluster
	// (kube-system's istio-cni-node): waited for by name, not with every workload there.
	SharedWorkloads []kube.Target
	// ObjectStore is Kubeflow Pipelines' object store (minio, or SeaweedFS from v1.11).
	ObjectStore ObjectStore
	// DataClaims are the build's PersistentVolumeClaims: they hold data, so uninstall keeps them
	// unless --delete-data.
	DataClaims []DataClaim
	// PipelinesTag is the image tag of Kubeflow Pipelines' API server (Deployment
	// kubeflow/ml-pipeline) in the build: how Installed recognizes a release the plugin did not
	// record (a platform built by hand).
	PipelinesTag string
	// RemotePins are the sha256 digests of the remote kustomize bases the manifests reference,
	// by canonical download URL (kustomize.Remotes.Pins); nil when the build is all local.
	RemotePins map[string]string
}

// ObjectStore is the S3 store of Kubeflow Pipelines' artifacts. Every release keeps its keys in
// Secret kubeflow/mlpipeline-minio-artifact (accesskey, secretkey).
type ObjectStore struct {
	// Name is minio or SeaweedFS.
	Name string
	// Workload is the store's Deployment.
	Workload kube.Target
	// Rotate says how to change the keys by hand once the store runs.
	Rotate string
}

// DataClaim is a PersistentVolumeClaim of the build and what it holds.
type DataClaim struct {
	Namespace, Name, What string
}

// Ref is the claim's namespace/name.
func (d DataClaim) Ref() string { return d.Namespace + "/" + d.Name }

// WaitTargets are the workloads converge waits for: every one in the profile's namespaces and the
// shared ones by name.
func (p Profile) WaitTargets() []kube.Target {
	return append(kube.Workloads(p.Namespaces...), p.SharedWorkloads...)
}

// Versions lists the supported versions as their tags are spelled, oldest first.
func Versions() []string {
	out := make([]string, 0, len(profiles))
	for v := range profiles {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return versionLess(out[i], out[j]) })
	return out
}

// versionLess orders release tags by their numbers (v1.9.1 < v1.10.2 < 26.03).
func versionLess(a, b string) bool {
	pa := strings.Split(strings.TrimPrefix(a, "v"), ".")
	pb := strings.Split(strings.TrimPrefix(b, "v"), ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		switch {
		case ea != nil || eb != nil:
			if pa[i] != pb[i] {
				return pa[i] < pb[i]
			}
		case na != nb:
			return na < nb
		}
	}
	return len(pa) < len(pb)
}

// ProfileFor returns the version's profile, found with or without the tag's leading "v"
// ("1.11.0" and "v1.11.0" alike, "26.03" as well as "v26.03"); an unknown version is a usage
// error (exit 2).
func ProfileFor(version string) (Profile, error) {
	want := strings.TrimPrefix(strings.TrimSpace(version), "v")
	for tag, p := range profiles {
		if strings.TrimPrefix(tag, "v") == want {
			return p, nil
		}
	}
	return Profile{}, core.UsageErrorf("unknown Kubeflow version %q: use --version with one of %s", version, strings.Join(Versions(), ", "))
}

// DefaultURL is the GitHub tag archive of the version (the tag as spelled: v1.10.2, 26.03).
func (p Profile) DefaultURL() string {
	return fmt.Sprintf("https://github.com/kubeflow/manifests/archive/refs/tags/%s.tar.gz", p.Version)
}
