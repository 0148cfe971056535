// Package gpu is the runbook section "Using GPU": NVIDIA's gpu-operator chart installed with the
// host's drivers (driver.enabled=false), time-slicing through the device plugin's config
// ConfigMap, and the per-node view of physical and advertised GPUs that proves it. No cobra here:
// pkg/plugin/gpu turns flags into these calls.
package gpu

import (
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// Name is the section's name: the platform file's block, --only/--skip, `verify --section`.
const Name = "gpu"

// Chart and release defaults (runbook: `helm install --generate-name -n gpu-operator nvidia/gpu-operator`).
const (
	ChartName        = "gpu-operator"
	DefaultChartRepo = "https://helm.ngc.nvidia.com/nvidia"
	DefaultNamespace = "gpu-operator"
	// DevicePluginDaemonSet is the DaemonSet the operator runs the NVIDIA device plugin in.
	DevicePluginDaemonSet = "nvidia-device-plugin-daemonset"
	// ClusterPolicyName is the ClusterPolicy the chart creates.
	ClusterPolicyName = "cluster-policy"
)

// Extended resources the NVIDIA device plugin advertises.
const (
	ResourceGPU    corev1.ResourceName = "nvidia.com/gpu"
	ResourceShared corev1.ResourceName = "nvidia.com/gpu.shared"
)

// Node labels set by GPU feature discovery (GFD) and node feature discovery (NFD).
const (
	LabelPresent  = "nvidia.com/gpu.present"
	LabelCount    = "nvidia.com/gpu.count"
	LabelProduct  = "nvidia.com/gpu.product"
	LabelReplicas = "nvidia.com/gpu.replicas"
	// LabelNFDNvidiaPCI is NFD's label for a PCI device of vendor 10de (NVIDIA).
	LabelNFDNvidiaPCI = "feature.node.kubernetes.io/pci-10de.present"
)

// DriverCheckHint says how to check the host drivers (runbook "Using GPU").
const DriverCheckHint = "on each GPU node run `nvidia-smi`: it must list the GPUs (e.g. Tesla T4); if the command is missing, install the driver with the distribution's package manager (e.g. sudo apt install nvidia-utils-470-server), then the NVIDIA Container Toolkit (nvidia-docker2) and restart docker"

// NodeGPU is one GPU node as the device plugin and GPU feature discovery describe it.
type NodeGPU struct {
	Node    string `json:"node"`
	Product string `json:"product,omitempty"`
	// Physical is the number of physical GPUs (label nvidia.com/gpu.count).
	Physical int64 `json:"physical"`
	// Replicas is the time-slicing factor GFD reports (label nvidia.com/gpu.replicas, 1 when absent).
	Replicas int64 `json:"replicas"`
	// Resource is the advertised resource: nvidia.com/gpu, or nvidia.com/gpu.shared when renamed.
	Resource string `json:"resource"`
	// Allocatable is the node's allocatable count of Resource.
	Allocatable int64 `json:"allocatable"`
	// Requested is the sum of GPU requests of the node's pods that have not terminated (gpu status).
	Requested *int64 `json:"requested,omitempty"`
}

// IsGPUNode tells whether a node advertises NVIDIA GPUs, in capacity or through NFD/GFD labels.
func IsGPUNode(n *corev1.Node) bool {
	if q, ok := n.Status.Capacity[ResourceGPU]; ok && q.Value() > 0 {
		return true
	}
	if q, ok := n.Status.Capacity[ResourceShared]; ok && q.Value() > 0 {
		return true
	}
	return n.Labels[LabelPresent] == "true" || n.Labels[LabelNFDNvidiaPCI] == "true"
}

// Describe returns the GPU view of one node.
func Describe(n *corev1.Node) NodeGPU {
	g := NodeGPU{Node: n.Name, Product: n.Labels[LabelProduct], Replicas: 1, Resource: string(ResourceGPU)}
	if r, err := strconv.ParseInt(n.Labels[LabelReplicas], 10, 64); err == nil && r > 0 {
		g.Replicas = r
	}
	alloc := quantity(n.Status.Allocatable, ResourceGPU)
	if shared := quantity(n.Status.Allocatable, ResourceShared); shared > 0 {
		g.Resource, alloc = string(ResourceShared), shared
	}
	g.Allocatable = alloc
	if c, err := strconv.ParseInt(n.Labels[LabelCount], 10, 64); err == nil && c >= 0 {
		g.Physical = c
	} else {
		// No GFD label: the capacity divided by the reported replicas.
		g.Physical = quantity(n.Status.Capacity, corev1.ResourceName(g.Resource)) / g.Replicas
	}
	return g
}

// Inventory describes every GPU node, sorted by name. With pods (gpu status), Requested is the sum
// of the GPU requests of the pods on each node that have not terminated.
func Inventory(nodes []corev1.Node, pods []corev1.Pod) []NodeGPU {
	var out []NodeGPU
	for i := range nodes {
		if IsGPUNode(&nodes[i]) {
			out = append(out, Describe(&nodes[i]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	if pods == nil {
		return out
	}
	requested := map[string]int64{}
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		requested[p.Spec.NodeName] += podGPURequests(p)
	}
	for i := range out {
		r := requested[out[i].Node]
		out[i].Requested = &r
	}
	return out
}

// podGPURequests sums the nvidia.com/gpu and nvidia.com/gpu.shared requests of a pod's containers
// (limits when no request is set: for extended resources they must be equal).
func podGPURequests(p *corev1.Pod) int64 {
	var sum int64
	for _, c := range p.Spec.Containers {
		for _, r := range []corev1.ResourceName{ResourceGPU, ResourceShared} {
			if q, ok := c.Resources.Requests[r]; ok {
				sum += q.Value()
			} else if q, ok := c.Resources.Limits[r]; ok {
				sum += q.Value()
			}
		}
	}
	return sum
}

func quantity(l corev1.ResourceList, name corev1.ResourceName) int64 {
	if q, ok := l[name]; ok {
		return q.Value()
	}
	return 0
}
