package kubeflow

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

func platformRecord(block string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace}, Data: map[string]string{Name: block}}
}

// applyRecord is the section's apply record with the apply set's namespaces.
func applyRecord(namespaces string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: kube.RecordName(Name), Namespace: kube.RecordNamespace,
		Annotations: map[string]string{kubectlapply.ApplySetAdditionalNamespacesAnnotation: namespaces}}}
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func runningPod(ns, name, image string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

var profileLabels = map[string]string{"app.kubernetes.io/part-of": "kubeflow-profile"}

func TestImageRegistryCheck(t *testing.T) {
	nss := []runtime.Object{namespace("kubeflow", nil), namespace("alice", profileLabels), namespace("scratch", nil)}
	pods := []runtime.Object{
		runningPod("kubeflow", "ml-pipeline-5d", "mirror.example:5000/ai/kubeflow/kfp-api-server:2.5.0"),
		runningPod("istio-system", "istiod-7b", "mirror.example:5000/ai/istio/pilot:1.26.1"),
		runningPod("alice", "nb-0", "docker.io/jupyter/scipy-notebook:latest"),
		runningPod("kube-system", "coredns-1", "registry.k8s.io/coredns/coredns:v1.11.1"),
		runningPod("scratch", "nginx", "docker.io/library/nginx:1"),
	}
	eval := func(cms ...runtime.Object) []checks.Result {
		s := checks.NewSnapshot().WithObjects(ConfigMapsGVR, cms...).WithObjects(cluster.PodsGVR, pods...).WithObjects(cluster.NamespacesGVR, nss...)
		cs := checks.Pick(Checks(), "KUBEFLOW-006")
		if len(cs) != 1 || cs[0].Title != "Pods pull from the image registry" {
			t.Fatalf("KUBEFLOW-006: %+v", cs)
		}
		return checks.Evaluate(s, cs)
	}
	if rs := eval(platformRecord("version: v1.10.2\n"), applyRecord("kubeflow,istio-system")); len(rs) != 1 || rs[0].Severity != checks.OK || !strings.Contains(rs[0].Message, "no imageRegistry set") {
		t.Fatalf("no registry: %+v", rs)
	}
	// The apply set's namespaces but the cluster's own, and the profile namespaces.
	rs := eval(platformRecord("version: v1.10.2\nimageRegistry: mirror.example:5000/ai\n"), applyRecord("istio-system,kube-system,kubeflow"))
	if len(rs) != 1 || rs[0].Severity != checks.Error || !strings.HasPrefix(rs[0].Message, "namespace alice: 1 of 1 pod pulls from outside mirror.example:5000/ai:\nalice/nb-0: docker.io/jupyter/scipy-notebook:latest") {
		t.Fatalf("profile namespace: %+v", rs)
	}
	for _, other := range []string{"coredns", "nginx", "ml-pipeline", "istiod"} {
		if strings.Contains(rs[0].Message, other) {
			t.Errorf("%s named: %s", other, rs[0].Message)
		}
	}
}

func TestImageRegistryNamespaces(t *testing.T) {
	nss := checks.NewSnapshot().WithObjects(cluster.NamespacesGVR, namespace("alice", profileLabels), namespace("bob", map[string]string{"app.kubernetes.io/part-of": "other"}))
	got, err := registryNamespaces(nss.WithObjects(ConfigMapsGVR, applyRecord(" auth , kube-system,kubeflow,,default")), nil)
	if want := []string{"auth", "kubeflow", "alice"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("from the apply record: %v, %v; want %v", got, err, want)
	}
	// No apply record (Kubeflow applied before it, or by hand): its known namespaces.
	got, err = registryNamespaces(nss.WithObjects(ConfigMapsGVR), nil)
	if want := append(slices.Clone(Namespaces), "alice"); err != nil || !slices.Equal(got, want) {
		t.Errorf("no apply record: %v, %v; want %v", got, err, want)
	}
	if _, err := registryNamespaces(checks.NewSnapshot().WithObjects(ConfigMapsGVR), nil); err == nil {
		t.Error("namespaces not listed: no error")
	}
}
