package kubeflow

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// CSRClients names the workloads of a build that get certificates from the cluster's own CA: a
// workload whose service account is bound to a role that creates certificatesigningrequests and
// approves them for a kubernetes.io signer (kube-controller-manager signs those, when started
// with its signing flags). v1.5.0's pipelines cache-deployer is one; from v1.6 on the example
// uses cert-manager, whose own signers need nothing from the cluster. Only a build with such a
// client needs the CSR-signing probe.
func CSRClients(objs []*unstructured.Unstructured) []string {
	roles := map[string]bool{} // "ClusterRole/name" or "Role/ns/name" that may create and approve
	for _, o := range objs {
		if (o.GetKind() == "ClusterRole" || o.GetKind() == "Role") && createsAndApprovesCSRs(o) {
			roles[roleKey(o.GetKind(), o.GetNamespace(), o.GetName())] = true
		}
	}
	if len(roles) == 0 {
		return nil
	}
	accounts := map[string]string{} // "ns/sa" -> role
	for _, o := range objs {
		if o.GetKind() != "ClusterRoleBinding" && o.GetKind() != "RoleBinding" {
			continue
		}
		kind, _, _ := unstructured.NestedString(o.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
		ns := ""
		if kind == "Role" {
			ns = o.GetNamespace()
		}
		role := roleKey(kind, ns, name)
		if !roles[role] {
			continue
		}
		subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
		for _, s := range subjects {
			m, _ := s.(map[string]any)
			if m["kind"] != "ServiceAccount" {
				continue
			}
			sns, _ := m["namespace"].(string)
			if sns == "" {
				sns = o.GetNamespace()
			}
			accounts[fmt.Sprintf("%s/%s", sns, m["name"])] = role
		}
	}
	var out []string
	for _, o := range objs {
		sa, ok := podServiceAccount(o)
		if !ok {
			continue
		}
		if role, bound := accounts[o.GetNamespace()+"/"+sa]; bound {
			out = append(out, fmt.Sprintf("%s %s/%s (service account %s, %s)", o.GetKind(), o.GetNamespace(), o.GetName(), sa, role))
		}
	}
	sort.Strings(out)
	return out
}

func roleKey(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

// createsAndApprovesCSRs: a rule creating certificatesigningrequests and one approving for a
// kubernetes.io signer.
func createsAndApprovesCSRs(role *unstructured.Unstructured) bool {
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	var creates, approves bool
	for _, r := range rules {
		m, _ := r.(map[string]any)
		if !has(m, "apiGroups", "certificates.k8s.io", "*") {
			continue
		}
		if has(m, "resources", "certificatesigningrequests", "*") && has(m, "verbs", "create", "*") {
			creates = true
		}
		if has(m, "resources", "signers", "*") && has(m, "verbs", "approve", "*") && kubernetesSigner(m) {
			approves = true
		}
	}
	return creates && approves
}

func kubernetesSigner(rule map[string]any) bool {
	names, _ := rule["resourceNames"].([]any)
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if s, _ := n.(string); strings.HasPrefix(s, "kubernetes.io/") {
			return true
		}
	}
	return false
}

func has(m map[string]any, key string, values ...string) bool {
	list, _ := m[key].([]any)
	for _, v := range list {
		for _, want := range values {
			if v == want {
				return true
			}
		}
	}
	return false
}

// podServiceAccount is the service account a workload's pods run as ("default" when unset).
func podServiceAccount(o *unstructured.Unstructured) (string, bool) {
	path := []string{"spec", "template", "spec"}
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet":
	case "CronJob":
		path = []string{"spec", "jobTemplate", "spec", "template", "spec"}
	default:
		return "", false
	}
	spec, found, _ := unstructured.NestedMap(o.Object, path...)
	if !found {
		return "", false
	}
	for _, k := range []string{"serviceAccountName", "serviceAccount"} {
		if s, _ := spec[k].(string); s != "" {
			return s, true
		}
	}
	return "default", true
}
