package storage

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
)

func deployment(ready int32) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "nfs-provisioner", Name: "nfs-subdir-external-provisioner"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "nfs-subdir-external-provisioner", Image: "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
			Env: []corev1.EnvVar{{Name: "PROVISIONER_NAME", Value: "cluster.local/nfs-subdir-external-provisioner"}, {Name: "NFS_SERVER", Value: "192.0.2.10"}, {Name: "NFS_PATH", Value: "/nfs"}},
		}}}}},
		Status: appsv1.DeploymentStatus{ReadyReplicas: ready},
	}
}

func class(name, provisioner string, def bool) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner}
	if def {
		sc.Annotations = map[string]string{cluster.DefaultClassAnnotation: "true"}
	}
	return sc
}

func run(deps []runtime.Object, classes ...runtime.Object) map[string]checks.Result {
	s := checks.NewSnapshot().WithObjects(DeploymentsGVR, deps...).WithObjects(cluster.StorageClassesGVR, classes...)
	out := map[string]checks.Result{}
	for _, r := range checks.Evaluate(s, Checks()) {
		out[r.ID] = r
	}
	return out
}

func TestStorageChecks(t *testing.T) {
	nfs := "cluster.local/nfs-subdir-external-provisioner"
	cases := []struct {
		name    string
		deps    []runtime.Object
		classes []runtime.Object
		want    map[string]checks.Severity
		message map[string]string
	}{
		{"healthy", []runtime.Object{deployment(1)}, []runtime.Object{class("nfs-client", nfs, true), class("standard", "x", false)},
			map[string]checks.Severity{"STORAGE-001": checks.OK, "STORAGE-002": checks.OK, "STORAGE-003": checks.OK},
			map[string]string{"STORAGE-003": "nfs-client is the only default"}},
		{"not installed", nil, []runtime.Object{class("standard", "x", true)},
			map[string]checks.Severity{"STORAGE-001": checks.Error, "STORAGE-002": checks.Error, "STORAGE-003": checks.Error},
			map[string]string{"STORAGE-001": "no nfs-subdir-external-provisioner Deployment"}},
		{"not ready, class missing", []runtime.Object{deployment(0)}, []runtime.Object{class("standard", "x", true)},
			map[string]checks.Severity{"STORAGE-001": checks.Error, "STORAGE-002": checks.Error, "STORAGE-003": checks.Error},
			map[string]string{"STORAGE-001": "0/1 replicas ready", "STORAGE-002": "no StorageClass has provisioner " + nfs, "STORAGE-003": "default: standard"}},
		{"two defaults", []runtime.Object{deployment(1)}, []runtime.Object{class("nfs-client", nfs, true), class("standard", "x", true)},
			map[string]checks.Severity{"STORAGE-001": checks.OK, "STORAGE-002": checks.OK, "STORAGE-003": checks.Error},
			map[string]string{"STORAGE-003": "2 default StorageClasses: nfs-client, standard"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := run(tc.deps, tc.classes...)
			for id, sev := range tc.want {
				if got[id].Severity != sev {
					t.Errorf("%s: %s (%s), want %s", id, got[id].Severity, got[id].Message, sev)
				}
			}
			for id, msg := range tc.message {
				if !strings.Contains(got[id].Message, msg) {
					t.Errorf("%s: message %q lacks %q", id, got[id].Message, msg)
				}
			}
		})
	}
}

func TestChecksRegister(t *testing.T) {
	checks.NewRegistry().Register(Checks()...) // panics on a malformed check
}
