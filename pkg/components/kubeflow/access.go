package kubeflow

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// applyVerbs are the apply engine's: a metadata LIST per type and namespace, GETs, the
// server-side apply (patch), create, which the API server also asks when an apply creates, and
// delete (prune, uninstall).
var applyVerbs = []string{"get", "list", "create", "patch", "delete"}

// Access is what `kubeflow` does to the cluster (see pkg/access) for the supported builds
// (every release of Versions; a --manifests tree with other kinds needs them too): every kind of the
// build through the apply engine, the CRDs awaited Established, the restarts after a credential
// change, preflight's reads and CSR probe, the waits. All builds bind cluster-admin (the profile
// controller) and ship aggregated ClusterRoles, which Kubernetes lets only an identity create that
// holds what they grant or may escalate and bind: this declaration is cluster-admin in effect,
// listed so that CLUSTER-005 names what is missing.
var Access = access.Section{Name: Name, Rules: append(append([]rbacv1.PolicyRule{
	access.Rule("", []string{"namespaces", "configmaps", "secrets", "services", "serviceaccounts", "persistentvolumeclaims"}, applyVerbs...),
	access.Rule("apps", []string{"deployments", "statefulsets", "daemonsets"}, applyVerbs...), // restarts patch too
	access.Rule("autoscaling", []string{"horizontalpodautoscalers"}, applyVerbs...),
	access.Rule("policy", []string{"poddisruptionbudgets"}, applyVerbs...),
	access.Rule("networking.k8s.io", []string{"networkpolicies"}, applyVerbs...),
	access.Rule("scheduling.k8s.io", []string{"priorityclasses"}, applyVerbs...),
	access.Rule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, applyVerbs...),
	access.Rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "get", "list", "watch", "create", "patch", "delete"),
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, applyVerbs...),
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "roles"}, "escalate", "bind"),
	// custom resources of the builds
	access.Rule("cert-manager.io", []string{"certificates", "issuers", "clusterissuers"}, applyVerbs...),
	access.Rule("kubeflow.org", []string{"profiles"}, applyVerbs...),
	// upgrades: Training Operator v1 is kept while its jobs exist
	access.Rule("kubeflow.org", trainingV1Jobs, "list"),
	// upgrades: the copy of the pipelines' artifacts from MinIO to SeaweedFS (its Service: above)
	access.Rule("batch", []string{"jobs"}, "get", "create"),
	access.Rule("metacontroller.k8s.io", []string{"compositecontrollers", "decoratorcontrollers"}, applyVerbs...),
	access.Rule("networking.istio.io", []string{"destinationrules", "envoyfilters", "gateways", "sidecars", "virtualservices"}, applyVerbs...),
	access.Rule("security.istio.io", []string{"authorizationpolicies", "peerauthentications", "requestauthentications"}, applyVerbs...),
	access.Rule("caching.internal.knative.dev", []string{"images"}, applyVerbs...),
	access.Rule("networking.internal.knative.dev", []string{"certificates"}, applyVerbs...),
	access.Rule("serving.kserve.io", []string{"clusterservingruntimes", "clusterstoragecontainers"}, applyVerbs...),
	access.Rule("trainer.kubeflow.org", []string{"clustertrainingruntimes"}, applyVerbs...),
	// preflight: the default StorageClass, capacity and the nodes' container runtime
	access.Rule("storage.k8s.io", []string{"storageclasses"}, "list"),
	access.Rule("", []string{"nodes", "pods", "events"}, "list"),        // pods and events: a wait's explanation
	access.Rule("discovery.k8s.io", []string{"endpointslices"}, "list"), // the webhook gate
}, kube.CSRProbeRules...), kube.RecordRules(Name)...)}
