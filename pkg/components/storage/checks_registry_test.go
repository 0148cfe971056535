package storage

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

func imagePod(ns, name, image string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// registryResults are STORAGE-004's results over the platform record with block (none when
// empty), the Deployments and the pods.
func registryResults(t *testing.T, block string, deps []runtime.Object, pods ...runtime.Object) []checks.Result {
	t.Helper()
	var cms []runtime.Object
	if block != "" {
		cms = append(cms, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace}, Data: map[string]string{Name: block}})
	}
	s := checks.NewSnapshot().WithObjects(DeploymentsGVR, deps...).WithObjects(cluster.ConfigMapsGVR, cms...).WithObjects(cluster.PodsGVR, pods...)
	cs := checks.Pick(Checks(), "STORAGE-004")
	if len(cs) != 1 || cs[0].Title != "Pods pull from the image registry" {
		t.Fatalf("STORAGE-004: %+v", cs)
	}
	return checks.Evaluate(s, cs)
}

func TestImageRegistryCheck(t *testing.T) {
	upstream := imagePod("nfs-provisioner", "nfs-subdir-external-provisioner-7d9", "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2")
	mirrored := imagePod("nfs-provisioner", "nfs-subdir-external-provisioner-7d9", "mirror.example:5000/ai/sig-storage/nfs-subdir-external-provisioner:v4.0.2")
	elsewhere := imagePod("default", "nginx", "docker.io/library/nginx:1")

	rs := registryResults(t, "nfsServer: 192.0.2.10\nnfsPath: /nfs\n", []runtime.Object{deployment(1)}, upstream)
	if len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no imageRegistry set") {
		t.Fatalf("no registry: %+v", rs)
	}
	if rs := registryResults(t, "", nil, upstream); len(rs) != 1 || rs[0].Severity != checks.OK {
		t.Fatalf("no record: %+v", rs)
	}

	reg := "nfsServer: 192.0.2.10\nimageRegistry: mirror.example:5000/ai\n"
	rs = registryResults(t, reg, []runtime.Object{deployment(1)}, mirrored, elsewhere)
	if len(rs) != 1 || rs[0].Severity != checks.OK || rs[0].Message != "1 pod in nfs-provisioner pulls from mirror.example:5000/ai" {
		t.Fatalf("within: %+v", rs)
	}
	rs = registryResults(t, reg, []runtime.Object{deployment(1)}, upstream, elsewhere)
	if len(rs) != 1 || rs[0].Severity != checks.Error ||
		!strings.Contains(rs[0].Message, "nfs-provisioner/nfs-subdir-external-provisioner-7d9: registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2") ||
		strings.Contains(rs[0].Message, "nginx") {
		t.Fatalf("upstream image: %+v", rs)
	}
}

func TestImageRegistryNamespaces(t *testing.T) {
	elsewhere := deployment(1)
	elsewhere.Namespace = "hand-made"
	for _, c := range []struct {
		block string
		deps  []runtime.Object
		want  []string
	}{
		{"imageRegistry: m.example\n", nil, []string{DefaultNamespace}},
		{"imageRegistry: m.example\nreleaseNamespace: nfs\n", nil, []string{"nfs"}},
		{"imageRegistry: m.example\nreleaseNamespace: nfs\n", []runtime.Object{deployment(1), elsewhere}, []string{"nfs", "hand-made", "nfs-provisioner"}},
	} {
		s := checks.NewSnapshot().WithObjects(DeploymentsGVR, c.deps...)
		got, err := registryNamespaces(s, []byte(c.block))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.block, got, err, c.want)
		}
	}
}
