package gpu

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Status is `gpu status`: every GPU node with the GPUs the pods on it request, from one LIST of
// nodes and one of the pods that have not terminated.
func Status(ctx context.Context, clients *kube.Clients) ([]NodeGPU, error) {
	nodes, err := clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("gpu status: list nodes: %w", err)
	}
	pods, err := clients.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "status.phase!=Succeeded,status.phase!=Failed"})
	if err != nil {
		return nil, fmt.Errorf("gpu status: list pods: %w", err)
	}
	if pods.Items == nil {
		pods.Items = []corev1.Pod{}
	}
	return Inventory(nodes.Items, pods.Items), nil
}

// Nodes lists the nodes that advertise NVIDIA GPUs (capacity or NFD/GFD labels), as they are
// (`gpu slicing` prints them after its run).
func Nodes(ctx context.Context, clients *kube.Clients) ([]NodeGPU, error) {
	nodes, err := clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("gpu: list nodes: %w", err)
	}
	return Inventory(nodes.Items, nil), nil
}
