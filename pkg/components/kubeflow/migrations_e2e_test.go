package kubeflow

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestMigrationsOnTheAPIServer (apiserver-only 1.37 bed): the hop to v1.10.2 deletes the
// metacontroller binding that v1.9.1 made to cluster-admin (a server dry run only says so), so
// the v1.10.2 build's binding can be created, and leaves a binding that already binds the new
// role; the prune's keeper keeps every claim, the minio Deployment and AuthorizationPolicy while
// its claim is there, and Training Operator v1's objects while a v1 job exists, reading the
// cluster to say so; then the artifact copy (assertArtifactCopyStarts).
func TestMigrationsOnTheAPIServer(t *testing.T) {
	p, _ := ProfileFor("v1.10.2")
	b, err := Build(context.Background(), p, fixtureSource(t, p), Edits{})
	if err != nil {
		t.Fatal(err)
	}
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	crbs := c.Client.RbacV1().ClusterRoleBindings()
	const name = "meta-controller-cluster-role-binding"
	old := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "meta-controller-service", Namespace: "kubeflow"}}}
	if _, err := crbs.Create(ctx, old, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := rebindMetacontroller.Run(ctx, &section.Run{Clients: cl, DryRun: core.DryRunServer}, b)
	if err != nil || len(res) != 1 || res[0].DryRun != core.DryRunServer || !strings.Contains(res[0].Detail, "cluster-admin → kubeflow-metacontroller") {
		t.Fatalf("server dry run: %v %+v", err, res)
	}
	if _, err := crbs.Get(ctx, name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the dry run deleted the binding: %v", err)
	}
	if res, err = rebindMetacontroller.Run(ctx, &section.Run{Clients: cl}, b); err != nil || len(res) != 1 {
		t.Fatalf("migration: %v %+v", err, res)
	}
	if _, err := crbs.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the binding to cluster-admin is still there: %v", err)
	}
	// What the hop's apply then creates: the build's binding; the migration leaves it alone.
	for _, o := range b.Objects {
		if o.GetKind() == "ClusterRoleBinding" && o.GetName() == name {
			var crb rbacv1.ClusterRoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &crb); err != nil {
				t.Fatal(err)
			}
			if _, err := crbs.Create(ctx, &crb, metav1.CreateOptions{}); err != nil {
				t.Fatalf("the v1.10.2 binding cannot be created after the migration: %v", err)
			}
		}
	}
	if res, err = rebindMetacontroller.Run(ctx, &section.Run{Clients: cl}, b); err != nil || len(res) != 0 {
		t.Fatalf("a binding of the new role was touched: %v %+v", err, res)
	}

	k := &keeper{c: cl}
	keeps := func(kind, ns, name string) bool {
		t.Helper()
		why, keep, err := k.keep(ctx, kind, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		if keep && why == "" {
			t.Errorf("%s %s/%s kept without a reason", kind, ns, name)
		}
		return keep
	}
	if !keeps("PersistentVolumeClaim", "kubeflow", "anything") || keeps("ConfigMap", "kubeflow", "minio") {
		t.Fatal("a claim not kept, or a ConfigMap kept")
	}
	if keeps("Deployment", "kubeflow", "minio") || keeps("CustomResourceDefinition", "", "pytorchjobs.kubeflow.org") {
		t.Fatal("minio kept without its claim, or Training Operator v1 without a job (and without its CRDs)")
	}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kubeflow"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	claim := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "minio-pvc", Namespace: "kubeflow"}, Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims("kubeflow").Create(ctx, claim, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var crd *unstructured.Unstructured
	for _, o := range b.Objects {
		if o.GetKind() == "CustomResourceDefinition" && o.GetName() == "pytorchjobs.kubeflow.org" {
			crd = o
		}
	}
	a := &kube.Applier{Clients: cl, Section: "migrations-test"}
	if _, err := a.Apply(ctx, []*unstructured.Unstructured{crd.DeepCopy()}); err != nil {
		t.Fatal(err)
	}
	job := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
		"metadata": map[string]any{"name": "v1-job", "namespace": "kubeflow"},
		"spec":     map[string]any{"pytorchReplicaSpecs": map[string]any{"Master": map[string]any{"replicas": int64(1), "template": map[string]any{}}}}}}
	if _, err := cl.Dynamic.Resource(schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "pytorchjobs"}).Namespace("kubeflow").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	k = &keeper{c: cl} // a new run asks again
	if !keeps("Deployment", "kubeflow", "minio") || !keeps("AuthorizationPolicy", "kubeflow", "minio-service") || !keeps("CustomResourceDefinition", "", "pytorchjobs.kubeflow.org") ||
		!keeps("ValidatingWebhookConfiguration", "", "validator.training-operator.kubeflow.org") || keeps("Deployment", "kubeflow", "ml-pipeline") {
		t.Fatal("with the claim and a v1 job: minio (Deployment, AuthorizationPolicy) and Training Operator v1 not kept, or another Deployment kept")
	}
	if why, _, _ := k.keep(ctx, "Deployment", "kubeflow", "training-operator"); !strings.Contains(why, "1 pytorchjobs") {
		t.Errorf("the reason does not name the job: %q", why)
	}
	assertArtifactCopyStarts(ctx, t, c, cl) // the claim minio-pvc is there
}
