package gpu

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
)

// Resource types the gpu checks list.
var (
	NodesGVR           = corev1.SchemeGroupVersion.WithResource("nodes")
	DeploymentsGVR     = appsv1.SchemeGroupVersion.WithResource("deployments")
	ClusterPoliciesGVR = schema.GroupVersionResource{Group: "nvidia.com", Version: "v1", Resource: "clusterpolicies"}
)

// OperatorComponentLabel marks the gpu-operator Deployment (app.kubernetes.io/component).
const OperatorComponentLabel = "app.kubernetes.io/component"

// Checks returns the gpu checks in ID order.
func Checks() []checks.Check {
	return []checks.Check{
		{ID: "GPU-001", Section: Name, Title: "GPU operator ready", Severity: checks.Error, Resources: []schema.GroupVersionResource{DeploymentsGVR}, Run: operatorReady},
		{ID: "GPU-002", Section: Name, Title: "ClusterPolicy ready", Severity: checks.Error, Resources: []schema.GroupVersionResource{ClusterPoliciesGVR}, Run: clusterPolicyReady},
		{ID: "GPU-003", Section: Name, Title: "Every GPU node advertises GPUs", Severity: checks.Error, Resources: []schema.GroupVersionResource{NodesGVR}, Run: nodesAdvertise},
		cluster.ImageRegistryCheck(Name, "GPU-004", registryNamespaces),
	}
}

// registryNamespaces is where the operator and the operands its ClusterPolicy starts run
// (GPU-004): the recorded block's operator.releaseNamespace, DefaultNamespace when it leaves it
// out.
func registryNamespaces(_ *checks.Snapshot, block []byte) ([]string, error) {
	ns, err := cluster.BlockString(block, "operator", "releaseNamespace")
	return []string{cmp.Or(ns, DefaultNamespace)}, err
}

const installFix = "run `kubectl flexigrobots gpu operator` (installs NVIDIA's gpu-operator chart with driver.enabled=false)"

func operatorReady(s *checks.Snapshot) []checks.Result {
	ds, err := checks.ListAs[appsv1.Deployment](s, DeploymentsGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on deployments.apps in all namespaces")}
	}
	var found []appsv1.Deployment
	for _, d := range ds {
		if d.Labels[OperatorComponentLabel] == ChartName && d.Name == ChartName {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return []checks.Result{checks.NotInstalled("no gpu-operator Deployment in any namespace", installFix)}
	}
	var rs []checks.Result
	for _, d := range found {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		ref := d.Namespace + "/" + d.Name
		if d.Status.ReadyReplicas < want || d.Status.UpdatedReplicas < want {
			rs = append(rs, checks.Fail(fmt.Sprintf("deployment %s: %d/%d ready", ref, d.Status.ReadyReplicas, want),
				fmt.Sprintf("look at its pods: kubectl get pods -n %s -l app=gpu-operator; kubectl logs -n %s deploy/gpu-operator", d.Namespace, d.Namespace)))
			continue
		}
		rs = append(rs, checks.Pass("deployment %s: %d/%d ready", ref, d.Status.ReadyReplicas, want))
	}
	return rs
}

func clusterPolicyReady(s *checks.Snapshot) []checks.Result {
	items, err := s.List(ClusterPoliciesGVR)
	if checks.IsNotServed(err) {
		return []checks.Result{checks.NotInstalled("the ClusterPolicy CRD (clusterpolicies.nvidia.com) is not installed", installFix)}
	}
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on clusterpolicies.nvidia.com")}
	}
	if len(items) == 0 {
		return []checks.Result{checks.Fail("no ClusterPolicy: the operator has nothing to deploy", installFix+"; the chart creates ClusterPolicy cluster-policy unless clusterPolicy.deployCR=false")}
	}
	var rs []checks.Result
	for _, cp := range items {
		state, _, _ := unstructured.NestedString(cp.Object, "status", "state")
		if state != "ready" {
			if state == "" {
				state = "no state reported yet"
			}
			rs = append(rs, checks.Fail(fmt.Sprintf("ClusterPolicy %s: state %s", cp.GetName(), state),
				"the operator is still deploying its operands or one fails: kubectl describe clusterpolicy "+cp.GetName()+" and kubectl get pods -n "+DefaultNamespace+" (driver.enabled=false needs the driver on the host: "+DriverCheckHint+")"))
			continue
		}
		rs = append(rs, checks.Pass("ClusterPolicy %s: ready", cp.GetName()))
	}
	return rs
}

func nodesAdvertise(s *checks.Snapshot) []checks.Result {
	nodes, err := checks.ListAs[corev1.Node](s, NodesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on nodes")}
	}
	var silent, ok []string
	for i := range nodes {
		n := &nodes[i]
		if !IsGPUNode(n) {
			continue
		}
		g := Describe(n)
		if g.Allocatable <= 0 {
			silent = append(silent, n.Name)
			continue
		}
		ok = append(ok, fmt.Sprintf("%s (%d %s)", n.Name, g.Allocatable, g.Resource))
	}
	sort.Strings(silent)
	sort.Strings(ok)
	switch {
	case len(silent) > 0:
		return []checks.Result{checks.Fail("GPU nodes with no allocatable nvidia.com/gpu: "+strings.Join(silent, ", "),
			"the device plugin does not run or finds no GPU there: kubectl get pods -n "+DefaultNamespace+" -o wide (nvidia-device-plugin-daemonset); "+DriverCheckHint)}
	case len(ok) == 0:
		return []checks.Result{checks.Warning("no node advertises NVIDIA GPUs (no nvidia.com/gpu capacity, no nvidia.com/gpu.present or NFD pci-10de label)", DriverCheckHint)}
	}
	return []checks.Result{checks.Pass("GPU nodes advertise GPUs: %s", strings.Join(ok, ", "))}
}
