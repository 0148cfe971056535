package cluster

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// record is the platform record holding blocks (section name -> YAML).
func record(blocks map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace}, Data: blocks}
}

// pod is a running pod with one container per image.
func pod(ns, name string, imgs ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for i, img := range imgs {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + string(rune('0'+i)), Image: img})
	}
	return p
}

// fixed is a SectionNamespaces that returns nss.
func fixed(nss ...string) SectionNamespaces {
	return func(*checks.Snapshot, []byte) ([]string, error) { return nss, nil }
}

func evalRegistry(s *checks.Snapshot, namespaces SectionNamespaces) []checks.Result {
	return checks.Evaluate(s, []checks.Check{ImageRegistryCheck("storage", "STORAGE-099", namespaces)})
}

func snap(cms []runtime.Object, pods ...runtime.Object) *checks.Snapshot {
	return checks.NewSnapshot().WithObjects(ConfigMapsGVR, cms...).WithObjects(PodsGVR, pods...)
}

func TestImageRegistryCheckDeclaration(t *testing.T) {
	c := ImageRegistryCheck("kubeflow", "KUBEFLOW-099", fixed(), NamespacesGVR, PodsGVR)
	want := []schema.GroupVersionResource{ConfigMapsGVR, PodsGVR, NamespacesGVR}
	if len(c.Resources) != len(want) {
		t.Fatalf("resources %v, want %v", c.Resources, want)
	}
	for i := range want {
		if c.Resources[i] != want[i] {
			t.Fatalf("resources %v, want %v", c.Resources, want)
		}
	}
	if c.Title != ImageRegistryTitle || c.Severity != checks.Error || c.Section != "kubeflow" {
		t.Fatalf("check %+v", c)
	}
	checks.NewRegistry().Register(c) // panics on a malformed check
}

func TestImageRegistryNotSet(t *testing.T) {
	upstream := pod("nfs-provisioner", "nfs-1", "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2")
	for name, cms := range map[string][]runtime.Object{
		"no record":             nil,
		"no block of section":   {record(map[string]string{"lb": "imageRegistry: mirror.example:5000\n"})},
		"block without it":      {record(map[string]string{"storage": "nfsServer: 192.0.2.10\nnfsPath: /nfs\n"})},
		"other namespace's map": {&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: "default"}, Data: map[string]string{"storage": "imageRegistry: mirror.example:5000\n"}}},
	} {
		t.Run(name, func(t *testing.T) {
			called := false
			rs := evalRegistry(snap(cms, upstream), func(*checks.Snapshot, []byte) ([]string, error) { called = true; return nil, nil })
			if len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no imageRegistry set: images are pulled from their upstream registries") {
				t.Fatalf("got %+v", rs)
			}
			if called {
				t.Error("the namespaces were looked up without a registry")
			}
		})
	}
}

func TestImageRegistryWithin(t *testing.T) {
	cms := []runtime.Object{record(map[string]string{"storage": "nfsServer: 192.0.2.10\nimageRegistry: mirror.example:5000/ai\nimagePullSecrets: [pull]\n"})}
	ok1 := pod("nfs-provisioner", "nfs-1", "mirror.example:5000/ai/sig-storage/nfs-subdir-external-provisioner:v4.0.2")
	ok2 := pod("nfs-provisioner", "smoke", "mirror.example:5000/ai/library/busybox:stable@sha256:"+strings.Repeat("a", 64))
	elsewhere := pod("default", "hand-made", "docker.io/library/nginx:1")

	rs := evalRegistry(snap(cms, ok1, ok2, elsewhere), fixed("nfs-provisioner"))
	if len(rs) != 1 || rs[0].Severity != checks.OK || rs[0].Message != "2 pods in nfs-provisioner pull from mirror.example:5000/ai" {
		t.Fatalf("all within (a pod outside the namespaces ignored): %+v", rs)
	}

	rs = evalRegistry(snap(cms, elsewhere), fixed("nfs-provisioner", "nfs-provisioner", ""))
	if len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no pods in nfs-provisioner:") {
		t.Fatalf("no pods: %+v", rs)
	}
}

func TestImageRegistryOutside(t *testing.T) {
	cms := []runtime.Object{record(map[string]string{"storage": "imageRegistry: mirror.example:5000/ai\n"})}
	good := pod("nfs-provisioner", "nfs-1", "mirror.example:5000/ai/sig-storage/nfs-subdir-external-provisioner:v4.0.2")
	hub := pod("nfs-provisioner", "debug", "busybox:1.36", "mirror.example:5000/ai/library/busybox:1.36")
	// The prefix is part of the registry: another path on the same host is outside.
	other := pod("nfs-provisioner", "other-prefix", "mirror.example:5000/other/x:1")
	// Init and ephemeral containers count; each image once per pod.
	init := pod("smoke", "smoke-1", "mirror.example:5000/ai/library/busybox:1.36")
	init.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "quay.io/x/init:2"}, {Name: "again", Image: "quay.io/x/init:2"}}
	init.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "dbg", Image: "ghcr.io/y/debug:3"}}}
	// What the kubelet resolved is not what the pod asks for: status images are not read.
	init.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c0", Image: "docker.io/library/busybox:1.36"}}
	// Pods on their way out and finished ones pull nothing any more.
	gone := pod("nfs-provisioner", "terminating", "docker.io/library/old:1")
	now := metav1.Now()
	gone.DeletionTimestamp = &now
	done := pod("nfs-provisioner", "job-done", "docker.io/library/old:1")
	done.Status.Phase = corev1.PodSucceeded
	elsewhere := pod("default", "hand-made", "docker.io/library/nginx:1")

	rs := evalRegistry(snap(cms, good, hub, other, init, gone, done, elsewhere), fixed("smoke", "nfs-provisioner"))
	if len(rs) != 2 {
		t.Fatalf("want one failure per namespace, got %+v", rs)
	}
	for _, r := range rs {
		if r.Severity != checks.Error || r.ID != "STORAGE-099" {
			t.Errorf("%+v: want the check's severity error", r)
		}
		if !strings.Contains(r.Fix, "kubectl flexigrobots images mirror -f plugins.yaml --to mirror.example:5000/ai") || !strings.Contains(r.Fix, "re-apply") || !strings.Contains(r.Fix, "made by hand") {
			t.Errorf("fix: %q", r.Fix)
		}
	}
	wantMsg := "namespace nfs-provisioner: 2 of 3 pods pull from outside mirror.example:5000/ai:\n" +
		"nfs-provisioner/debug: busybox:1.36\n" +
		"nfs-provisioner/other-prefix: mirror.example:5000/other/x:1"
	if rs[0].Message != wantMsg {
		t.Errorf("message:\n%s\nwant:\n%s", rs[0].Message, wantMsg)
	}
	if want := "namespace smoke: 1 of 1 pod pulls from outside mirror.example:5000/ai:\nsmoke/smoke-1: quay.io/x/init:2, ghcr.io/y/debug:3"; rs[1].Message != want {
		t.Errorf("message:\n%s\nwant:\n%s", rs[1].Message, want)
	}
	all := rs[0].Message + rs[1].Message
	for _, leftOut := range []string{"hand-made", "terminating", "job-done", "nfs-1", "docker.io/library/busybox"} {
		if strings.Contains(all, leftOut) {
			t.Errorf("%q named: %s", leftOut, all)
		}
	}
}

func TestImageRegistryCannotEvaluate(t *testing.T) {
	cms := []runtime.Object{record(map[string]string{"storage": "imageRegistry: mirror.example:5000\n"})}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "configmaps"}, "", errors.New("no"))

	s := checks.NewSnapshot().WithListError(ConfigMapsGVR, forbidden).WithObjects(PodsGVR)
	if rs := evalRegistry(s, fixed("x")); len(rs) != 1 || rs[0].Severity != checks.Info || !strings.Contains(rs[0].Fix, "list on configmaps, pods") {
		t.Fatalf("configmaps forbidden: want skipped, got %+v", rs)
	}
	s = checks.NewSnapshot().WithObjects(ConfigMapsGVR, cms...).WithListError(PodsGVR, forbidden)
	if rs := evalRegistry(s, fixed("x")); len(rs) != 1 || rs[0].Severity != checks.Info {
		t.Fatalf("pods forbidden: want skipped, got %+v", rs)
	}
	failing := func(*checks.Snapshot, []byte) ([]string, error) { return nil, errors.New("connection reset") }
	if rs := evalRegistry(snap(cms), failing); len(rs) != 1 || rs[0].Severity != checks.Error || !strings.Contains(rs[0].Message, "cannot evaluate: connection reset") {
		t.Fatalf("namespaces unknown: %+v", rs)
	}
	bad := []runtime.Object{record(map[string]string{"storage": "imageRegistry: [not, a, string]\n"})}
	if rs := evalRegistry(snap(bad), fixed("x")); len(rs) != 1 || rs[0].Severity != checks.Error || !strings.Contains(rs[0].Message, "does not parse") {
		t.Fatalf("block does not parse: %+v", rs)
	}
	invalid := []runtime.Object{record(map[string]string{"storage": "imageRegistry: oci:./platform-images\n"})}
	if rs := evalRegistry(snap(invalid), fixed("x")); len(rs) != 1 || rs[0].Severity != checks.Error || !strings.Contains(rs[0].Message, "recorded imageRegistry") {
		t.Fatalf("registry invalid: %+v", rs)
	}
}

func TestBlockString(t *testing.T) {
	block := []byte("releaseNamespace: nfs\noperator:\n  releaseNamespace: gpu\n  chart: {version: v1}\n")
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"releaseNamespace"}, "nfs"},
		{[]string{"operator", "releaseNamespace"}, "gpu"},
		{[]string{"operator", "chart", "repo"}, ""},
		{[]string{"releaseNamespace", "deeper"}, ""},
		{[]string{"missing"}, ""},
	} {
		if got, err := BlockString(block, c.path...); err != nil || got != c.want {
			t.Errorf("%v: %q, %v; want %q", c.path, got, err, c.want)
		}
	}
	if _, err := BlockString([]byte("a: [b"), "a"); err == nil {
		t.Error("a block that does not parse: no error")
	}
}
