package kubeflow

import (
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// The releases' profiles. Every path was read in the release's tree; Namespaces, SharedWorkloads
// and DataClaims are those of the release's `example` build (TestBuildWithAllEdits checks them
// against the build). Since v1.9.1 Kubeflow Pipelines runs Argo's emissary executor only, on any
// container runtime: there is no PNS variant to pick.

// Stores of Kubeflow Pipelines' artifacts.
var (
	minioStore = ObjectStore{Name: "minio", Workload: kube.Target{GVR: kube.DeploymentsGVR, Namespace: "kubeflow", Name: "minio"},
		Rotate: "set new keys in minio (mc admin), then in the Secret, and restart minio, ml-pipeline, ml-pipeline-ui and the pipelines profile controller"}
	// SeaweedFS's start-up hook gives its S3 user kubeflow-admin the Secret's keys on every start,
	// adding them to the ones it has: an old key stays valid until removed.
	seaweedStore = ObjectStore{Name: "SeaweedFS", Workload: kube.Target{GVR: kube.DeploymentsGVR, Namespace: "kubeflow", Name: "seaweedfs"},
		Rotate: "set new keys in the Secret and restart seaweedfs (its start-up hook adds them to S3 user kubeflow-admin), " +
			"remove the old key (kubectl exec -n kubeflow deploy/seaweedfs -- weed shell: s3.configure -user kubeflow-admin -access_key OLD -delete -apply), " +
			"then restart ml-pipeline, ml-pipeline-ui and the pipelines profile controller"}
)

// Claims that hold data.
var (
	pipelinesDB = DataClaim{Namespace: "kubeflow", Name: "mysql-pv-claim", What: "Kubeflow Pipelines' MySQL"}
	katibDB     = DataClaim{Namespace: "kubeflow", Name: "katib-mysql", What: "Katib's MySQL"}
	minioData   = DataClaim{Namespace: "kubeflow", Name: "minio-pvc", What: "Kubeflow Pipelines' artifacts (minio)"}
	seaweedData = DataClaim{Namespace: "kubeflow", Name: "seaweedfs-pvc", What: "Kubeflow Pipelines' artifacts (SeaweedFS)"}
)

// istioCNI is the Istio CNI node agent that v1.10 and later install in kube-system.
var istioCNI = kube.Target{GVR: kube.DaemonSetsGVR, Namespace: "kube-system", Name: "istio-cni-node"}

// oauth2Proxy is the auth proxy from v1.9 on: its OIDC client secret and cookie secret.
var oauth2Proxy = ClientSecret{File: "common/oauth2-proxy/base/kustomization.yaml", Generator: "oauth2-proxy", Namespace: "oauth2-proxy", IDKey: "client-id", SecretKey: "client-secret", CookieKey: "cookie-secret"}

// dexClient is dex's end of the OIDC client secret (every release).
var dexClient = ClientSecret{File: "common/dex/base/kustomization.yaml", Generator: "dex-oidc-client", Namespace: "auth", IDKey: "OIDC_CLIENT_ID", SecretKey: "OIDC_CLIENT_SECRET"}

// remoteBasePins are the digests of the remote bases v1.11.0 and 26.03 reference: GitHub's tag
// archives, reproduced from the tags (git archive | gzip -n). Only argo-workflows is reached by
// `example`; lws is the trainer's data-cache overlay's. The jobset release asset
// (releases/download/v0.10.1/manifests.yaml) is not pinned: its digest is not known here (the
// test fixture is a rebuild of it, not the asset), so it is fetched unverified and the build's
// report says so.
var remoteBasePins = map[string]string{
	"https://github.com/argoproj/argo-workflows/archive/refs/tags/v3.7.3.tar.gz": "971f797616aea76d835a239346275ae1122fe0396ca485c1f41828f03317333e",
	"https://github.com/kubernetes-sigs/lws/archive/refs/tags/v0.7.0.tar.gz":     "f78891d4592b585e40eafe5d27adce3cf8b165277175eb45c4d20888ce4634f0",
}

var profiles = map[string]Profile{
	"v1.5.0": {
		Version: "v1.5.0", Top: "manifests-1.5.0", Build: "example",
		ArchiveSHA256:   "0e760c6f00d356d5a11fa6a31dbf8c9956aadc102f971815e64d82c6bfeacc24",
		Namespaces:      []string{"cert-manager", "istio-system", "auth", "knative-eventing", "knative-serving", "kserve", "kubeflow"},
		OIDCFile:        "common/oidc-authservice/base/params.env",
		OIDCKey:         "OIDC_PROVIDER",
		DashboardParams: "apps/centraldashboard/upstream/base/params.env",
		DexConfigMap:    "common/dex/base/config-map.yaml",
		ClientID:        "kubeflow-oidc-authservice",
		Dex:             dexClient,
		Proxy:           ClientSecret{File: "common/oidc-authservice/base/kustomization.yaml", Generator: "oidc-authservice-client", Namespace: "istio-system", IDKey: "CLIENT_ID", SecretKey: "CLIENT_SECRET"},
		ProxyWorkload:   kube.Target{GVR: kube.StatefulSetsGVR, Namespace: "istio-system", Name: "authservice"},
		Pipelines:       "../apps/pipeline/upstream/env/platform-agnostic-multi-user",
		PipelinesPNS:    "../apps/pipeline/upstream/env/platform-agnostic-multi-user-pns",
		ProxyNeedsOIDC:  true,
		ObjectStore:     minioStore,
		DataClaims:      []DataClaim{{Namespace: "istio-system", Name: "authservice-pvc", What: "authservice's login sessions"}, pipelinesDB, minioData, katibDB},
		PipelinesTag:    "1.8.1",
	},
	"v1.9.1": oauth2ProxyRelease("v1.9.1", "c3cf7fd5fe9d4408cf9e40fba686ae84f779edb3f629ce7752d278fa8bec501d", "apps", func(p *Profile) {
		p.SharedWorkloads = nil // no Istio CNI before v1.10
		p.ObjectStore, p.DataClaims = minioStore, []DataClaim{katibDB, minioData, pipelinesDB}
		p.PipelinesTag = "2.3.0"
	}),
	"v1.10.2": oauth2ProxyRelease("v1.10.2", "669adac7d0ede70aa70cea665051dd1549f0bf9c91e6081d03682840e1bc3b30", "applications", func(p *Profile) {
		p.ObjectStore, p.DataClaims = minioStore, []DataClaim{katibDB, minioData, pipelinesDB}
		p.PipelinesTag = "2.5.0"
	}),
	"v1.11.0": oauth2ProxyRelease("v1.11.0", "6461b8e3f319a8eb3b93cc6c747e0ed7f17101bbc68184db468dea2cc236bcb6", "applications", func(p *Profile) {
		p.Namespaces = append(p.Namespaces, "kubeflow-system")
		p.RemotePins = remoteBasePins
		p.PipelinesTag = "2.15.0"
	}),
	// 26.03: the first calendar-versioned tag (no "v"); its user Profile has no placeholders.
	"26.03": oauth2ProxyRelease("26.03", "c2a1037f5c32ff6e7d792c381a51f899ec33211400a3c90f96dbfc14d856d55b", "applications", func(p *Profile) {
		p.Namespaces = append(p.Namespaces, "kubeflow-system")
		p.RemotePins = remoteBasePins
		p.UserProfile = ""
		p.PipelinesTag = "2.16.0"
	}),
}

// oauth2ProxyRelease is what the releases from v1.9 on share: oauth2-proxy in front of dex, dex's
// static user's hash in Secret auth/dex-passwords, Istio CNI, SeaweedFS; apps is the folder of
// the applications ("apps" before v1.10.2's rename). with sets what differs.
func oauth2ProxyRelease(version, archiveSHA256, apps string, with func(*Profile)) Profile {
	p := Profile{
		Version: version, Top: "manifests-" + strings.TrimPrefix(version, "v"), Build: "example",
		ArchiveSHA256:   archiveSHA256,
		Namespaces:      []string{"cert-manager", "istio-system", "auth", "oauth2-proxy", "knative-serving", "kubeflow"},
		SharedWorkloads: []kube.Target{istioCNI},
		OIDCFile:        "common/oauth2-proxy/base/oauth2_proxy.cfg",
		OIDCKey:         "oidc_issuer_url",
		DashboardParams: apps + "/centraldashboard/upstream/base/params.env",
		DexConfigMap:    "common/dex/overlays/oauth2-proxy/config-map.yaml",
		DexHash:         SecretKeyRef{Namespace: "auth", Name: "dex-passwords", Key: "DEX_USER_PASSWORD"},
		ClientID:        "kubeflow-oidc-authservice",
		Dex:             dexClient,
		Proxy:           oauth2Proxy,
		ProxyWorkload:   kube.Target{GVR: kube.DeploymentsGVR, Namespace: "oauth2-proxy", Name: "oauth2-proxy"},
		UserProfile:     "common/user-namespace/base",
		ObjectStore:     seaweedStore,
		DataClaims:      []DataClaim{katibDB, pipelinesDB, seaweedData},
	}
	with(&p)
	return p
}
