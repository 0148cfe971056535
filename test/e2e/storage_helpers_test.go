package e2e

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// storageArgs are the flags of a storage run against the fixture chart repository.
func storageArgs(repo string, extra ...string) []string {
	return append([]string{"storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", nfsPath}, extra...)
}

// storageState is the resourceVersion of everything a storage run may write.
func storageState(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	secrets, err := c.Client.CoreV1().Secrets(nfsNS).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		out["secret/"+s.Name] = s.ResourceVersion
	}
	deps, err := c.Client.AppsV1().Deployments(nfsNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		out["deployment/"+d.Name] = d.ResourceVersion
	}
	classes, err := c.Client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range classes.Items {
		out["storageclass/"+sc.Name] = sc.ResourceVersion
	}
	return out
}

func getClass(t *testing.T, c *testbed.Cluster, name string) *storagev1.StorageClass {
	t.Helper()
	sc, err := c.Client.StorageV1().StorageClasses().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func reportOf(t *testing.T, r result) output.Report {
	t.Helper()
	var rep output.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-o json is not a report: %v\n%s", err, r.stdout)
	}
	return rep
}

// TestStorage runs the storage section end to end on the test bed with the real chart
// (nfs-subdir-external-provisioner 4.0.18 from the fixture repository) and the NFS stand-in.

// scaleProvisioner sets the provisioner's replicas and waits until that many are ready.
func scaleProvisioner(t *testing.T, c *testbed.Cluster, n int32) {
	t.Helper()
	ctx := context.Background()
	deps := c.Client.AppsV1().Deployments(nfsNS)
	s, err := deps.GetScale(ctx, storage.ReleaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Spec.Replicas = n
	if _, err := deps.UpdateScale(ctx, storage.ReleaseName, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := deps.Get(ctx, storage.ReleaseName, metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == n && d.Status.Replicas == n, nil
	})
	if err != nil {
		t.Fatalf("scale %s to %d: %v", storage.ReleaseName, n, err)
	}
}

func storageArgsWithPath(repo, p string) []string {
	return []string{"storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", p}
}

func envOf(d *appsv1.Deployment, name string) string {
	for _, ctr := range d.Spec.Template.Spec.Containers {
		for _, e := range ctr.Env {
			if e.Name == name {
				return e.Value
			}
		}
	}
	return ""
}

// addExternalIP gives a node an ExternalIP, as a cloud node has (kwok's heartbeat keeps it).
func addExternalIP(t *testing.T, c *testbed.Cluster, node, ip string) {
	t.Helper()
	ctx := context.Background()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip})
		_, err = c.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
