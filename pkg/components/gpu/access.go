package gpu

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Access is what `gpu operator`, `gpu slicing` and `gpu status` do to the cluster (see
// pkg/access): helm's release Secrets and the gpu-operator chart's objects (v26.7.0 runs an
// upgrade-CRD hook Job on every upgrade), the CRDs applied first, the device-plugin ConfigMap and
// the device plugin's restart, and the node and pod reads of slicing and status.
var Access = access.Section{Name: Name, Rules: append([]rbacv1.PolicyRule{
	access.Rule("", []string{"secrets"}, "get", "list", "create", "update", "delete"),
	access.Rule("", []string{"namespaces"}, "get", "create"),
	access.Rule("", []string{"nodes", "pods", "events"}, "list"),
	// the chart's kinds; configmaps also: the device-plugin config (apply, delete on --disable)
	access.Rule("", []string{"serviceaccounts", "configmaps", "services"}, "get", "list", "create", "patch", "delete"),
	access.Rule("apps", []string{"deployments"}, "get", "list", "create", "patch", "delete"),
	access.Rule("apps", []string{"daemonsets"}, "get", "list", "create", "patch", "delete"), // slicing restarts the device plugin
	access.Rule("apps", []string{"replicasets"}, "list"),
	access.Rule("batch", []string{"jobs"}, "get", "list", "watch", "create", "delete"), // helm hooks
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, "get", "create", "patch", "delete"),
	// the operator's ClusterRole itself creates roles: escalation prevention asks for escalate and bind
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "roles"}, "escalate", "bind"),
	// the chart's CRDs, applied first and awaited Established (watch)
	access.Rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "get", "list", "watch", "create", "patch"),
	access.Rule("nvidia.com", []string{"clusterpolicies"}, "get", "list", "create", "patch", "delete"),
}, append(kube.RecordRules(Name), kube.LeftoversRules...)...)}
