package gpu

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

func TestParseReplicas(t *testing.T) {
	for _, ok := range []struct {
		in   string
		want int
	}{{"1", 1}, {"4", 4}, {" 64 ", 64}} {
		if got, err := ParseReplicas(ok.in); err != nil || got != ok.want {
			t.Errorf("ParseReplicas(%q) = %d, %v; want %d", ok.in, got, err, ok.want)
		}
	}
	for _, bad := range []string{"0", "-1", "1.5", "abc", "65", ""} {
		_, err := ParseReplicas(bad)
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), "1 to 64") {
			t.Errorf("ParseReplicas(%q): %v, want a usage error naming the range", bad, err)
		}
	}
}

// TestConfigFile checks the device plugin config against the runbook's file, field by field.
func TestConfigFile(t *testing.T) {
	c := SlicingSpec{Replicas: 4, RenameByDefault: true, FailRequestsGreaterThanOne: true, ConfigName: "time-slicing-config"}
	var got map[string]any
	if err := yaml.Unmarshal([]byte(c.File()), &got); err != nil {
		t.Fatal(err)
	}
	want := `
version: v1
flags:
  migStrategy: none
  failOnInitError: true
  nvidiaDriverRoot: /
  plugin:
    passDeviceSpecs: false
    deviceListStrategy: envvar
    deviceIDStrategy: uuid
  gfd:
    oneshot: false
    noTimestamp: false
    outputFile: /etc/kubernetes/node-feature-discovery/features.d/gfd
    sleepInterval: 60s
sharing:
  timeSlicing:
    renameByDefault: true
    failRequestsGreaterThanOne: true
    resources:
    - name: nvidia.com/gpu
      replicas: 4
`
	var w map[string]any
	if err := yaml.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if gy, _ := yaml.Marshal(got); string(gy) != mustYAML(t, w) {
		t.Fatalf("config file:\n%s\nwant:\n%s", gy, mustYAML(t, w))
	}
	cm := c.ConfigMap("gpu-operator")
	if cm.GetName() != "time-slicing-config" || cm.GetNamespace() != "gpu-operator" {
		t.Fatalf("ConfigMap %s/%s", cm.GetNamespace(), cm.GetName())
	}
	if data, _, _ := unstructured.NestedString(cm.Object, "data", ConfigKey); data != c.File() {
		t.Fatalf("ConfigMap data[%s] is not the config file", ConfigKey)
	}
	if c.Resource() != string(ResourceShared) || (SlicingSpec{Replicas: 1, RenameByDefault: true}).Resource() != string(ResourceGPU) {
		t.Fatal("Resource: want nvidia.com/gpu.shared only when renaming with replicas > 1")
	}
	other := c
	other.ConfigName = "tenant-slicing"
	if (SlicingSpec{Replicas: 1, ConfigName: "x"}).Hash() != "" || c.Hash() == (SlicingSpec{Replicas: 2, ConfigName: c.ConfigName}).Hash() || c.Hash() != c.Hash() || c.Hash() == other.Hash() {
		t.Fatal("Hash: empty when off, stable, different per config and per ConfigMap name")
	}
}

func mustYAML(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gpuNode(name string, labels map[string]string, alloc corev1.ResourceList) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Status: corev1.NodeStatus{Capacity: alloc, Allocatable: alloc}}
}

func TestInventory(t *testing.T) {
	nodes := []corev1.Node{
		gpuNode("master", map[string]string{"kubernetes.io/os": "linux"}, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("12")}),
		gpuNode("gpu-b", map[string]string{LabelPresent: "true", LabelCount: "2", LabelProduct: "Tesla-T4", LabelReplicas: "4"},
			corev1.ResourceList{ResourceShared: resource.MustParse("8"), ResourceGPU: resource.MustParse("0")}),
		// No GFD labels: physical is the capacity.
		gpuNode("gpu-a", nil, corev1.ResourceList{ResourceGPU: resource.MustParse("1")}),
	}
	pod := func(node string, phase corev1.PodPhase, req, limit string) corev1.Pod {
		c := corev1.Container{Name: "c"}
		if req != "" {
			c.Resources.Requests = corev1.ResourceList{ResourceShared: resource.MustParse(req)}
		}
		if limit != "" {
			c.Resources.Limits = corev1.ResourceList{ResourceShared: resource.MustParse(limit)}
		}
		return corev1.Pod{Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{c}}, Status: corev1.PodStatus{Phase: phase}}
	}
	pods := []corev1.Pod{
		pod("gpu-b", corev1.PodRunning, "2", "2"), pod("gpu-b", corev1.PodPending, "", "1"),
		pod("gpu-b", corev1.PodSucceeded, "3", ""), pod("", corev1.PodPending, "1", ""),
	}
	inv := Inventory(nodes, pods)
	if len(inv) != 2 || inv[0].Node != "gpu-a" || inv[1].Node != "gpu-b" {
		t.Fatalf("inventory %+v, want gpu-a, gpu-b", inv)
	}
	a, b := inv[0], inv[1]
	if a.Physical != 1 || a.Replicas != 1 || a.Allocatable != 1 || a.Resource != string(ResourceGPU) || *a.Requested != 0 {
		t.Errorf("gpu-a: %+v", a)
	}
	if b.Physical != 2 || b.Replicas != 4 || b.Allocatable != 8 || b.Resource != string(ResourceShared) || b.Product != "Tesla-T4" || *b.Requested != 3 {
		t.Errorf("gpu-b: %+v (want 3 requested: running 2 + pending limit 1, succeeded not counted)", b)
	}
	if Inventory(nodes, nil)[0].Requested != nil {
		t.Error("Requested must stay unset without pods")
	}
}

func TestChecks(t *testing.T) {
	one := int32(1)
	ready := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: ChartName, Namespace: "gpu-operator", Labels: map[string]string{OperatorComponentLabel: ChartName}},
		Spec: appsv1.DeploymentSpec{Replicas: &one}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1}}
	notReady := ready
	notReady.Status = appsv1.DeploymentStatus{}
	cp := func(state string) unstructured.Unstructured {
		u := unstructured.Unstructured{Object: map[string]any{"apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": map[string]any{"name": ClusterPolicyName}}}
		if state != "" {
			_ = unstructured.SetNestedField(u.Object, state, "status", "state")
		}
		return u
	}
	silent := gpuNode("gpu-worker", map[string]string{LabelPresent: "true", LabelCount: "1"}, corev1.ResourceList{})
	good := gpuNode("gpu-worker", map[string]string{LabelPresent: "true", LabelCount: "1"}, corev1.ResourceList{ResourceGPU: resource.MustParse("4")})
	plain := gpuNode("master", nil, corev1.ResourceList{})

	cases := []struct {
		name string
		snap *checks.Snapshot
		want map[string]checks.Severity
		msg  string
	}{
		{"all green", checks.NewSnapshot().WithObjects(DeploymentsGVR, &ready).WithItems(ClusterPoliciesGVR, []unstructured.Unstructured{cp("ready")}).WithObjects(NodesGVR, &good, &plain).WithObjects(cluster.ConfigMapsGVR).WithObjects(cluster.PodsGVR),
			map[string]checks.Severity{"GPU-001": checks.OK, "GPU-002": checks.OK, "GPU-003": checks.OK, "GPU-004": checks.OK}, "gpu-worker (4 nvidia.com/gpu)"},
		{"nothing installed", checks.NewSnapshot().WithObjects(DeploymentsGVR).WithNotServed(ClusterPoliciesGVR).WithObjects(NodesGVR, &plain).WithObjects(cluster.ConfigMapsGVR).WithObjects(cluster.PodsGVR),
			map[string]checks.Severity{"GPU-001": checks.Error, "GPU-002": checks.Error, "GPU-003": checks.Warn, "GPU-004": checks.OK}, "gpu operator"},
		{"not ready yet", checks.NewSnapshot().WithObjects(DeploymentsGVR, &notReady).WithItems(ClusterPoliciesGVR, []unstructured.Unstructured{cp("notReady")}).WithObjects(NodesGVR, &silent).WithObjects(cluster.ConfigMapsGVR).WithObjects(cluster.PodsGVR),
			map[string]checks.Severity{"GPU-001": checks.Error, "GPU-002": checks.Error, "GPU-003": checks.Error, "GPU-004": checks.OK}, "nvidia-smi"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var all strings.Builder
			for _, r := range checks.Evaluate(tc.snap, Checks()) {
				if r.Severity != tc.want[r.ID] {
					t.Errorf("%s: %s %q, want %s", r.ID, r.Severity, r.Message, tc.want[r.ID])
				}
				all.WriteString(r.Message + " " + r.Fix + "\n")
			}
			if !strings.Contains(all.String(), tc.msg) {
				t.Errorf("results do not mention %q:\n%s", tc.msg, all.String())
			}
		})
	}
}
