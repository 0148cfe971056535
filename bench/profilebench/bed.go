package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

var profilesGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"}

// profileNames are the benchmark's users' Profiles (and namespaces).
func profileNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user-%03d", i)
	}
	return out
}

// preparedBed starts a fresh test bed and gives it the state both sides start from: nodes
// simulated nodes in all (the runbook's two and workers), Kubeflow v1.10.2 converged (without
// waiting for its workloads), and profiles Profiles each with the namespace Kubeflow's profile
// controller would make (owner annotation, labels, controller ownerReference); Kubeflow's
// example Profile gets its namespace too.
func preparedBed(built *kubeflow.Built, profiles, nodes int) (*testbed.Cluster, error) {
	c, _, err := benchkit.StartBed(true)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			benchkit.StopBed(c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := addNodes(ctx, c, nodes-len(testbed.RunbookNodes())); err != nil {
		return nil, err
	}
	cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
	if err != nil {
		return nil, err
	}
	in := &kubeflow.Installer{Clients: cl, DryRun: core.DryRunNone, ForceConflicts: true}
	cctx, cancel := core.WithBudget(ctx, 15*time.Minute)
	defer cancel()
	if _, err := in.Converge(cctx, built, nil); err != nil {
		return nil, fmt.Errorf("install Kubeflow: %w", err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	var g errgroup.Group
	g.SetLimit(16)
	for _, name := range profileNames(profiles) {
		g.Go(func() error {
			p := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "kubeflow.org/v1", "kind": "Profile", "metadata": map[string]any{"name": name},
				"spec": map[string]any{"owner": map[string]any{"kind": "User", "name": name + "@example.com"}},
			}}
			_, err := dyn.Resource(profilesGVR).Create(ctx, p, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("create Profiles: %w", err)
	}
	all, err := dyn.Resource(profilesGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	labels := standins.NewProfileController().ProfileNamespaceLabels()
	for i := range all.Items {
		prof := &all.Items[i]
		g.Go(func() error {
			owner, _, _ := unstructured.NestedString(prof.Object, "spec", "owner", "name")
			yes := true
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
				Name: prof.GetName(), Annotations: map[string]string{"owner": owner}, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "kubeflow.org/v1", Kind: "Profile", Name: prof.GetName(), UID: prof.GetUID(), Controller: &yes, BlockOwnerDeletion: &yes}},
			}}
			_, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("create profile namespaces: %w", err)
	}
	ok = true
	return c, nil
}

// addNodes creates n more kwok-managed worker nodes and waits until every node is Ready.
func addNodes(ctx context.Context, c *testbed.Cluster, n int) error {
	res := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("400Gi"),
	}
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		name := fmt.Sprintf("worker-%03d", i)
		g.Go(func() error {
			node := &corev1.Node{
				ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}, Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/worker": "true",
				}},
				Status: corev1.NodeStatus{Capacity: res, Allocatable: res.DeepCopy()},
			}
			_, err := c.Client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("create nodes: %w", err)
	}
	return wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, nd := range list.Items {
			for _, cond := range nd.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == len(list.Items) && ready >= n, nil
	})
}
