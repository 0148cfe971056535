package e2e

import (
	"context"
	"slices"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertArtifactsCopied checks the hop to v1.11.0's copy of the pipelines' artifacts from minio to
// SeaweedFS, as rep (the upgrade's report) and the cluster show it. The bed runs no containers:
// kwok ends the copy's pod as succeeded and the real Job controller completes the Job, so this
// proves the order and the wiring, not the bytes copied. The report creates the Job before it
// deletes minio's Deployment and AuthorizationPolicy; the Job completed, was created after
// SeaweedFS's Deployment and reads both stores' keys from Secret mlpipeline-minio-artifact,
// which holds generated keys, not upstream's published ones; minio's server, its policy and the
// copy's Service are gone, its claim is not.
func assertArtifactsCopied(t *testing.T, c *testbed.Cluster, rep output.Report) {
	t.Helper()
	ctx := context.Background()
	at := func(kind, name, action string) int {
		return slices.IndexFunc(rep.Results, func(x output.Result) bool {
			return x.Kind == kind && x.Namespace == "kubeflow" && x.Name == name && x.Action == action
		})
	}
	created, minioGone, policyGone := at("Job", kubeflow.CopyJobName, output.Created), at("Deployment", "minio", output.Deleted), at("AuthorizationPolicy", "minio-service", output.Deleted)
	if created < 0 || minioGone < created || policyGone < created {
		t.Errorf("report: copy Job created at %d, minio's Deployment deleted at %d, its AuthorizationPolicy at %d: want the Job first, then both", created, minioGone, policyGone)
	}
	job, err := c.Client.BatchV1().Jobs("kubeflow").Get(ctx, kubeflow.CopyJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the copy Job: %v", err)
	}
	complete := slices.ContainsFunc(job.Status.Conditions, func(c batchv1.JobCondition) bool {
		return c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue
	})
	store, err := c.Client.AppsV1().Deployments("kubeflow").Get(ctx, "seaweedfs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !complete || job.CreationTimestamp.Before(&store.CreationTimestamp) {
		t.Errorf("copy Job: complete %v, created %v, SeaweedFS created %v: want it complete, made after SeaweedFS", complete, job.CreationTimestamp, store.CreationTimestamp)
	}
	refs := 0
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == "mlpipeline-minio-artifact" {
			refs++
		}
	}
	secret, err := c.Client.CoreV1().Secrets("kubeflow").Get(ctx, "mlpipeline-minio-artifact", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ak, sk := string(secret.Data["accesskey"]), string(secret.Data["secretkey"]); refs != 4 || ak == "" || ak == "minio" || sk == "" || sk == "minio123" {
		t.Errorf("copy Job: %d keys from Secret mlpipeline-minio-artifact (want 4: both stores' access and secret key), which holds the published keys or none: %v", refs, ak == "minio" || sk == "minio123")
	}
	if _, err := c.Client.AppsV1().Deployments("kubeflow").Get(ctx, "minio", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("minio's Deployment after the copy: %v, want it gone", err)
	}
	if _, err := c.Client.CoreV1().Services("kubeflow").Get(ctx, kubeflow.CopySourceService, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the copy's Service after the copy: %v, want it gone", err)
	}
	policies := schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}
	if _, err := dynamic.NewForConfigOrDie(c.Config).Resource(policies).Namespace("kubeflow").Get(ctx, "minio-service", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("minio's AuthorizationPolicy after the copy: %v, want it gone", err)
	}
	if _, err := c.Client.CoreV1().PersistentVolumeClaims("kubeflow").Get(ctx, "minio-pvc", metav1.GetOptions{}); err != nil {
		t.Errorf("minio's claim after the copy: %v, want it kept", err)
	}
}
