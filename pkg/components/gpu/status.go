package gpu

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Status is `gpu status`: every GPU node with the GPUs the pods on it request, from one LIST of
// nodes and one of the pods that have not terminated.
func (in *Installer) Status(ctx context.Context) ([]NodeGPU, error) {
	nodes, err := in.Clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("gpu status: list nodes: %w", err)
	}
	pods, err := in.Clients.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return nil, fmt.Errorf("gpu status: list pods: %w", err)
	}
	if pods.Items == nil {
		pods.Items = []corev1.Pod{}
	}
	return Inventory(nodes.Items, pods.Items), nil
}
