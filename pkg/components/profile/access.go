package profile

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
)

// Access is what `profile poddefault` does to the cluster (see pkg/access): the Profiles and
// namespaces it reads (and watches with --watch), the PodDefaults it applies and removes.
var Access = access.Section{Name: Name, Rules: []rbacv1.PolicyRule{
	access.Rule("kubeflow.org", []string{"profiles"}, "list", "watch"),
	access.Rule("", []string{"namespaces"}, "list", "watch"),
	access.Rule("kubeflow.org", []string{"poddefaults"}, "get", "list", "create", "patch", "delete"),
	access.Rule("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, "list"),
	access.Rule("discovery.k8s.io", []string{"endpointslices"}, "list"),
}}
