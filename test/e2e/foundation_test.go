package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/version"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// deployAndSeeRunning deploys a 3-replica Deployment and waits for 3 Running pods on the
// simulated nodes.
func deployAndSeeRunning(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	labels := map[string]string{"app": "hello"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "registry.invalid/hello:1"}}},
			},
		},
	}
	if _, err := c.Client.AppsV1().Deployments("default").Create(context.Background(), d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := waitRunningPods(t, c, "default", "app=hello", 3)
	for _, p := range pods {
		if p.Spec.NodeName != testbed.MasterNode && p.Spec.NodeName != testbed.GPUNode {
			t.Errorf("pod %s on unexpected node %q", p.Name, p.Spec.NodeName)
		}
	}
}

func checkServerVersion(t *testing.T, c *testbed.Cluster, want string) {
	t.Helper()
	r := runPlugin(t, c, "version", "-o", "json")
	if r.code != 0 {
		t.Fatalf("version exit %d: %s", r.code, r.stderr)
	}
	var info version.Info
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("version -o json is not JSON: %v\n%s", err, r.stdout)
	}
	if info.Server == nil || info.Server.GitVersion != want {
		t.Fatalf("server version = %+v, want %s", info.Server, want)
	}
	if info.Client.GoVersion == "" || info.Client.Version == "" {
		t.Errorf("client version incomplete: %+v", info.Client)
	}
}

func TestTestBedRunsDeploymentAndVersion(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	t.Logf("test bed start time (binaries cached): %s", c.StartTime)
	deployAndSeeRunning(t, c)
	checkServerVersion(t, c, testbed.V137)
	checkReleasesConnected(t, c, testbed.V137, "RKE")
}

func TestTestBedV121RunsDeploymentAndServesV1beta1CRDs(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Version: testbed.V121})
	t.Logf("v1.21 test bed start time (binaries cached): %s", c.StartTime)
	deployAndSeeRunning(t, c)
	checkServerVersion(t, c, testbed.V121)
	checkReleasesConnected(t, c, testbed.V121, "RKE")
	groups, err := c.Client.Discovery().ServerResourcesForGroupVersion("apiextensions.k8s.io/v1beta1")
	if err != nil || len(groups.APIResources) == 0 {
		t.Fatalf("apiextensions.k8s.io/v1beta1 not served on %s: %v", testbed.V121, err)
	}
}

// TestPluginDiscoveryThroughKubectl puts the binary on PATH and runs it as `kubectl flexigrobots`.
func TestPluginDiscoveryThroughKubectl(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test bed's kubectl (make testbin): skipped under -short")
	}
	kubectl := testbed.Kubectl(t)
	bin := testbed.PluginBinary(t)
	cmd := exec.Command(kubectl, "flexigrobots", "version", "--client")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Plugin Version:") {
		t.Fatalf("kubectl flexigrobots version --client: %v\n%s", err, out)
	}
	cmd = exec.Command(kubectl, "flexigrobots", "--help")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kubectl flexigrobots [command]") {
		t.Fatalf("help must name `kubectl flexigrobots`: %v\n%s", err, out)
	}
}
