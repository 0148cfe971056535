package lb

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

func lb007(block string, pods ...runtime.Object) []checks.Result {
	var cms []runtime.Object
	if block != "" {
		cms = append(cms, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace}, Data: map[string]string{Name: block}})
	}
	s := checks.NewSnapshot().WithObjects(cluster.ConfigMapsGVR, cms...).WithObjects(cluster.PodsGVR, pods...)
	return checks.Evaluate(s, checks.Pick(Checks(), "LB-007"))
}

func metallbPod(ns, name, image string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: metallbLabels("controller")},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: image}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func TestImageRegistryCheck(t *testing.T) {
	upstream := metallbPod(DefaultNamespace, "controller-5c", "quay.io/metallb/controller:v0.16.1")
	mirrored := metallbPod(DefaultNamespace, "controller-5c", "mirror.example:5000/ai/metallb/controller:v0.16.1")

	s := &Spec{Addresses: []string{"192.0.2.10/32"}}
	s.Default()
	if rs := lb007(recordedBlock(t, s, ""), upstream); len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no imageRegistry set") {
		t.Fatalf("no registry: %+v", rs)
	}
	block := recordedBlock(t, s, "mirror.example:5000/ai")
	if rs := lb007(block, mirrored); len(rs) != 1 || rs[0].Severity != checks.OK || rs[0].Message != "1 pod in metallb-system pulls from mirror.example:5000/ai" {
		t.Fatalf("within: %+v", rs)
	}
	rs := lb007(block, upstream, metallbPod("other", "x", "docker.io/library/nginx:1"))
	if len(rs) != 1 || rs[0].Severity != checks.Error || !strings.Contains(rs[0].Message, "metallb-system/controller-5c: quay.io/metallb/controller:v0.16.1") || strings.Contains(rs[0].Message, "nginx") {
		t.Fatalf("upstream: %+v", rs)
	}

	// The block's releaseNamespace, when not the default.
	s.ReleaseNamespace = "lb"
	block = recordedBlock(t, s, "mirror.example:5000/ai")
	if rs := lb007(block, upstream, metallbPod("lb", "speaker-x", "mirror.example:5000/ai/metallb/speaker:v0.16.1")); len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "1 pod in lb ") {
		t.Fatalf("release namespace lb: %+v", rs)
	}
	if ns, err := registryNamespaces(nil, []byte("imageRegistry: m.example\n")); err != nil || len(ns) != 1 || ns[0] != DefaultNamespace {
		t.Fatalf("no releaseNamespace in the block: %v, %v", ns, err)
	}
}
