package storage

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Access is what `storage` and `storage exports` do to the cluster (see pkg/access): helm's
// release Secrets and the chart's objects, the default-class demotion, the smoke test. Chart
// values that render more kinds (nfs.mountOptions: a PV and PVC) need more.
var Access = access.Section{Name: Name, Rules: append([]rbacv1.PolicyRule{
	// helm: release Secrets (list all namespaces, get, create, update; delete when recovering a stuck release)
	access.Rule("", []string{"secrets"}, "get", "list", "create", "update", "delete"),
	// helm install CreateNamespace (a 403 is not AlreadyExists: needed on every install)
	access.Rule("", []string{"namespaces"}, "get", "create"),
	// the chart's kinds: helm install, upgrade, rollback
	access.Rule("", []string{"serviceaccounts"}, "get", "create", "patch", "delete"),
	access.Rule("apps", []string{"deployments"}, "get", "list", "create", "patch", "delete"),
	access.Rule("apps", []string{"replicasets"}, "list"), // helm's wait on the Deployment
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, "get", "create", "patch", "delete"),
	// the chart's ClusterRole and Role grant what the provisioner does: escalation prevention
	// asks for those rights or escalate and bind
	access.Rule("rbac.authorization.k8s.io", []string{"clusterroles", "roles"}, "escalate", "bind"),
	// the chart's StorageClass; storage.go demotes other defaults (list + apply)
	access.Rule("storage.k8s.io", []string{"storageclasses"}, "get", "list", "create", "patch", "delete"),
	// smoke.go: a claim and a pod that writes to it, deleted after; the PV is awaited gone
	access.Rule("", []string{"persistentvolumeclaims", "pods"}, "get", "create", "delete"),
	access.Rule("", []string{"persistentvolumes"}, "get"),
	// storage exports: the node addresses
	access.Rule("", []string{"nodes"}, "list"),
	// uninstall: bound claims, claims and volumes on their way out
	access.Rule("", []string{"persistentvolumeclaims", "persistentvolumes"}, "list"),
	// checks (STORAGE-004): the platform record's imageRegistry and the pods that must pull from it
	access.Rule("", []string{"configmaps", "pods"}, "list"),
}, kube.LeftoversRules...)}
