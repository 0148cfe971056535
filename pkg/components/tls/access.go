package tls

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
)

// Access is what `tls` (and `tls status`, `--remove`) does to the cluster (see pkg/access): its
// state ConfigMap, the certificate Secret (manual) or the ACME ClusterIssuer and Certificate,
// the Gateway and AuthorizationPolicies Kubeflow installed (patched, never created), v1.5's
// authservice allow-list and restart, and the reads that explain a wait.
var Access = access.Section{Name: Name, Rules: []rbacv1.PolicyRule{
	access.Rule("", []string{"configmaps", "secrets"}, "get", "list", "create", "patch", "delete"),
	access.Rule("cert-manager.io", []string{"certificates", "clusterissuers"}, "get", "list", "create", "patch", "delete"),
	access.Rule("networking.istio.io", []string{"gateways"}, "get", "list", "patch"),
	access.Rule("security.istio.io", []string{"authorizationpolicies"}, "get", "list", "patch"),
	access.Named("apps", []string{"statefulsets"}, []string{"authservice"}, "get", "patch"),
	access.Rule("acme.cert-manager.io", []string{"orders", "challenges"}, "list"),
	access.Rule("", []string{"pods", "events"}, "list"),
	access.Rule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, "list"),
	access.Rule("discovery.k8s.io", []string{"endpointslices"}, "list"),
}}
