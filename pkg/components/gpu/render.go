package gpu

import (
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// node-feature-discovery's labels of a node's OS, which the gpu-operator joins into the driver
// image's tag suffix (ID then VERSION_ID: "ubuntu22.04").
const (
	LabelOSID      = "feature.node.kubernetes.io/system-os_release.ID"
	LabelOSVersion = "feature.node.kubernetes.io/system-os_release.VERSION_ID"
)

// Render renders the gpu-operator's chart at the version Apply would pick, with the values it
// would send (its ClusterPolicy names every component's image), and the GPU nodes' operating
// systems for the driver's tag. Time-slicing changes no image.
func (gpuSection) Render(ctx context.Context, r *section.Run, s section.Spec) (*section.Rendered, error) {
	spec, err := specOf(s)
	if err != nil {
		return nil, err
	}
	o := spec.Operator
	server, err := r.ServerVersion()
	if err != nil {
		return nil, core.Wrapf(err, "gpu")
	}
	if err := versions.GPUOperator.Resolve(server, &o.Chart, r.Progress.Logf); err != nil {
		return nil, err
	}
	release, err := operatorRelease(r.Helm, o, spec.Registry)
	if err != nil {
		return nil, err
	}
	rel, err := r.Helm.Render(ctx, release)
	if err != nil {
		return nil, core.Wrapf(err, "gpu")
	}
	osNames, err := gpuNodeOS(ctx, r)
	if err != nil {
		return nil, err
	}
	return &section.Rendered{Objects: rel.Objects, NodeOS: osNames}, nil
}

// gpuNodeOS are the distinct operating systems of the GPU nodes that carry NFD's OS labels.
func gpuNodeOS(ctx context.Context, r *section.Run) ([]string, error) {
	nodes, err := r.Clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("gpu: list nodes: %w", err)
	}
	var out []string
	for i := range nodes.Items {
		n := &nodes.Items[i]
		id, version := n.Labels[LabelOSID], n.Labels[LabelOSVersion]
		if IsGPUNode(n) && id != "" && version != "" && !slices.Contains(out, id+version) {
			out = append(out, id+version)
		}
	}
	slices.Sort(out)
	return out, nil
}
