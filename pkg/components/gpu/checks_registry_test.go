package gpu

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// recordedBlock is the block an apply of s records (section.recordBlock: the Spec as YAML).
func recordedBlock(t *testing.T, s *Spec, registry string) string {
	t.Helper()
	s.Registry.Registry = registry
	b, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gpu004(block string, pods ...runtime.Object) []checks.Result {
	var cms []runtime.Object
	if block != "" {
		cms = append(cms, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace}, Data: map[string]string{Name: block}})
	}
	s := checks.NewSnapshot().WithObjects(cluster.ConfigMapsGVR, cms...).WithObjects(cluster.PodsGVR, pods...)
	return checks.Evaluate(s, checks.Pick(Checks(), "GPU-004"))
}

func operandPod(ns, name string, images ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, img := range images {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: name, Image: img})
	}
	return p
}

func TestImageRegistryCheck(t *testing.T) {
	operator := operandPod(DefaultNamespace, "gpu-operator-6f", "mirror.example:5000/nvidia/gpu-operator:v25.3.0")
	plugin := operandPod(DefaultNamespace, "nvidia-device-plugin-daemonset-x", "nvcr.io/nvidia/k8s-device-plugin:v0.17.1")
	plugin.Spec.InitContainers = []corev1.Container{{Name: "toolkit-validation", Image: "nvcr.io/nvidia/cloud-native/gpu-operator-validator:v25.3.0"}}

	s := &Spec{}
	s.Default()
	if rs := gpu004(recordedBlock(t, s, ""), plugin); len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no imageRegistry set") {
		t.Fatalf("no registry: %+v", rs)
	}
	block := recordedBlock(t, s, "mirror.example:5000")
	rs := gpu004(block, operator, plugin, operandPod("default", "cuda-vectoradd", "nvcr.io/nvidia/k8s/cuda-sample:vectoradd"))
	if len(rs) != 1 || rs[0].Severity != checks.Error ||
		!strings.Contains(rs[0].Message, "gpu-operator/nvidia-device-plugin-daemonset-x: nvcr.io/nvidia/cloud-native/gpu-operator-validator:v25.3.0, nvcr.io/nvidia/k8s-device-plugin:v0.17.1") ||
		!strings.Contains(rs[0].Message, "1 of 2 pods") || strings.Contains(rs[0].Message, "cuda-sample") {
		t.Fatalf("upstream operand: %+v", rs)
	}

	// The operator's release namespace, from the block.
	s.Operator.ReleaseNamespace = "nvidia"
	block = recordedBlock(t, s, "mirror.example:5000")
	if rs := gpu004(block, plugin, operandPod("nvidia", "gpu-operator-6f", "mirror.example:5000/nvidia/gpu-operator:v25.3.0")); len(rs) != 1 || rs[0].Severity != checks.OK || rs[0].Message != "1 pod in nvidia pulls from mirror.example:5000" {
		t.Fatalf("release namespace nvidia: %+v", rs)
	}
}
