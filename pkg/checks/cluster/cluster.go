// Package cluster holds the checks of section "cluster": what the whole platform needs from the
// Kubernetes cluster before any section is installed (API server, nodes, one default
// StorageClass, CSR signing, the caller's permissions).
package cluster

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Section is the name `verify --section` selects.
const Section = "cluster"

// Resource types the cluster checks list.
var (
	NodesGVR          = corev1.SchemeGroupVersion.WithResource("nodes")
	StorageClassesGVR = storagev1.SchemeGroupVersion.WithResource("storageclasses")
)

// Checks returns the cluster checks in ID order; CLUSTER-005 reviews the sections' access.
func Checks(sections Sections) []checks.Check {
	return []checks.Check{
		{ID: "CLUSTER-001", Section: Section, Title: "API server reachable", Severity: checks.Error, Run: serverReachable},
		{ID: "CLUSTER-002", Section: Section, Title: "All nodes Ready", Severity: checks.Error, Resources: []schema.GroupVersionResource{NodesGVR}, Run: nodesReady},
		{ID: "CLUSTER-003", Section: Section, Title: "Exactly one default StorageClass", Severity: checks.Error, Resources: []schema.GroupVersionResource{StorageClassesGVR}, Run: defaultStorageClass},
		{ID: "CLUSTER-004", Section: Section, Title: "CSR signing works", Severity: checks.Error, Probes: []checks.Probe{CSRSigningProbe}, Run: csrSigning},
		{ID: "CLUSTER-005", Section: Section, Title: "Caller has the RBAC the plugin needs", Severity: checks.Error, Probes: []checks.Probe{accessProbe(sections)}, Run: rbacAccess(sections)},
	}
}

func serverReachable(s *checks.Snapshot) []checks.Result {
	if s.ServerErr != nil {
		return []checks.Result{checks.Fail(s.ServerErr.Error(),
			"check the kubeconfig context (kubectl config current-context), that the API server is up and reachable from here, and the credentials (kubectl version shows the same error)")}
	}
	if s.Server == nil {
		return []checks.Result{checks.CannotEvaluate(fmt.Errorf("server version not collected"), "")}
	}
	return []checks.Result{checks.Pass("Kubernetes %s at %s", s.Server.GitVersion, s.Host)}
}

func nodesReady(s *checks.Snapshot) []checks.Result {
	nodes, err := checks.ListAs[corev1.Node](s, NodesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs get/list on nodes (see CLUSTER-005)")}
	}
	if len(nodes) == 0 {
		return []checks.Result{checks.Fail("no nodes registered", "join at least one worker node to the cluster (on RKE: run the node command Rancher shows with the Worker role)")}
	}
	var notReady, cordoned, ready []string
	for _, n := range nodes {
		cond := readyCondition(n)
		switch {
		case cond == nil:
			notReady = append(notReady, n.Name+" (no Ready condition reported)")
		case cond.Status != corev1.ConditionTrue:
			why := strings.TrimSpace(cond.Reason + ": " + cond.Message)
			notReady = append(notReady, fmt.Sprintf("%s (Ready=%s %s)", n.Name, cond.Status, strings.Trim(why, ": ")))
		default:
			ready = append(ready, n.Name)
		}
		if n.Spec.Unschedulable {
			cordoned = append(cordoned, n.Name)
		}
	}
	var rs []checks.Result
	if len(notReady) > 0 {
		sort.Strings(notReady)
		rs = append(rs, checks.Fail(fmt.Sprintf("%s not Ready: %s", output.CountOf(len(notReady), len(nodes), "node"), strings.Join(notReady, ", ")),
			"look at the node: kubectl describe node NAME (conditions, events); on the node check the kubelet and container runtime (on RKE: docker ps, docker logs kubelet)"))
	} else {
		sort.Strings(ready)
		rs = append(rs, checks.Pass("%d/%d nodes Ready: %s", len(ready), len(nodes), strings.Join(ready, ", ")))
	}
	if len(cordoned) > 0 {
		sort.Strings(cordoned)
		rs = append(rs, checks.Warning("cordoned (unschedulable) nodes: "+strings.Join(cordoned, ", "),
			"when maintenance is over: kubectl uncordon NAME"))
	}
	return rs
}

func readyCondition(n corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// Default-class annotations: the GA one and the beta one older clusters and charts still set.
const (
	DefaultClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	BetaDefaultClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// IsDefaultClass tells whether sc is marked default (either annotation set to "true").
func IsDefaultClass(sc storagev1.StorageClass) bool {
	return sc.Annotations[DefaultClassAnnotation] == "true" || sc.Annotations[BetaDefaultClassAnnotation] == "true"
}

func defaultStorageClass(s *checks.Snapshot) []checks.Result {
	classes, err := checks.ListAs[storagev1.StorageClass](s, StorageClassesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs get/list on storageclasses.storage.k8s.io (see CLUSTER-005)")}
	}
	var defaults, all []string
	for _, sc := range classes {
		all = append(all, sc.Name)
		if IsDefaultClass(sc) {
			defaults = append(defaults, sc.Name)
		}
	}
	sort.Strings(defaults)
	sort.Strings(all)
	unmark := `kubectl patch storageclass NAME -p '{"metadata":{"annotations":{"` + DefaultClassAnnotation + `":"false","` + BetaDefaultClassAnnotation + `":"false"}}}'`
	switch len(defaults) {
	case 1:
		return []checks.Result{checks.Pass("default StorageClass: %s", defaults[0])}
	case 0:
		found := "no StorageClass at all"
		if len(all) > 0 {
			found = "StorageClasses present but none default: " + strings.Join(all, ", ")
		}
		return []checks.Result{checks.Fail("no default StorageClass ("+found+"); PVCs without storageClassName (Kubeflow's) stay Pending",
			"run `kubectl flexigrobots storage` (installs the NFS provisioner and makes its class the only default), or mark an existing class: kubectl patch storageclass NAME -p '{\"metadata\":{\"annotations\":{\""+DefaultClassAnnotation+"\":\"true\"}}}'")}
	default:
		return []checks.Result{checks.Fail(fmt.Sprintf("%d default StorageClasses: %s; PVCs without storageClassName get an unpredictable one", len(defaults), strings.Join(defaults, ", ")),
			"run `kubectl flexigrobots storage` (makes its class the only default), or unmark all but one: "+unmark)}
	}
}
