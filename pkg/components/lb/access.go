package lb

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Access is what `lb` does to the cluster (see pkg/access): helm's release Secrets and the
// MetalLB chart's objects (CRDs are chart templates), the pool and L2Advertisement, kube-proxy's
// strictARP (--fix-strict-arp), the probe Service, and the reads of its preflight and waits.
// Chart values that render more kinds (prometheus monitors, network policies) need more.
var Access = access.Section{Name: Name, Rules: append([]rbacv1.PolicyRule{
	// helm: release Secrets; the chart's webhook certificate Secret
	access.Rule("", []string{"secrets"}, "get", "list", "create", "update", "patch", "delete"),
	access.Rule("", []string{"namespaces"}, "get", "create"),
	// the chart's kinds; configmaps get also reads kube-system/kube-proxy
	access.Rule("", []string{"serviceaccounts", "configmaps"}, "get", "create", "patch", "delete"),
	access.Named("", []string{"configmaps"}, []string{"kube-proxy"}, "update"), // kubeproxy.go: --fix-strict-arp
	// helm's webhook Service; preflight reads default/kubernetes; the probe creates, reads and deletes its Service
	access.Rule("", []string{"services"}, "get", "list", "create", "patch", "delete"),
	access.Rule("apps", []string{"deployments", "daemonsets"}, "get", "list", "create", "patch", "delete"),
	access.Rule("apps", []string{"statefulsets"}, "list"), // the wait lists every workload kind
	access.Rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "get", "create", "patch", "delete"),
	access.Rule("admissionregistration.k8s.io", []string{"validatingwebhookconfigurations"}, "get", "list", "create", "patch", "delete"),
	access.Rule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations"}, "list"), // the webhook gate
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, "get", "create", "patch", "delete"),
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "roles"}, "escalate", "bind"), // the chart's controller and speaker roles
	// lb.go: the pool and L2Advertisement through the apply engine (metadata list + apply); checks
	access.Rule("metallb.io", []string{"ipaddresspools", "l2advertisements"}, "get", "list", "create", "patch", "delete"), // delete: prune, uninstall
	access.Rule("metallb.io", []string{"bgpadvertisements"}, "list"),
	access.Rule("", []string{"nodes", "pods", "events"}, "list"),        // preflight's node addresses; the wait's explanation
	access.Rule("networking.k8s.io", []string{"servicecidrs"}, "list"),  // preflight's service ranges (Kubernetes >= 1.33)
	access.Rule("discovery.k8s.io", []string{"endpointslices"}, "list"), // the webhook gate: backends ready
	access.Rule("", []string{"configmaps"}, "list"),                     // checks (LB-007): the platform record's imageRegistry
}, kube.LeftoversRules...)}
