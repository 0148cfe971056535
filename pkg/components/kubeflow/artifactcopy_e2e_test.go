package kubeflow

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertArtifactCopyStarts (API server only, the claim kubeflow/minio-pvc there): after a
// v1.11.0 apply, with no minio Deployment nothing is copied; with one, a server dry run creates
// nothing, a run without --wait creates the Job, wired to the keys of Secret
// mlpipeline-minio-artifact on both sides and to a Service of its own that selects the minio
// pods, and leaves minio; a second run creates nothing more; a failed Job is an error that
// leaves minio. The copy finishing and minio's removal need the Job controller: TestKubeflowV110.
func assertArtifactCopyStarts(ctx context.Context, t *testing.T, c *testbed.Cluster, cl *kube.Clients) {
	t.Helper()
	p, _ := ProfileFor("v1.11.0")
	b := &Built{Profile: p}
	run := func(r section.Run) ([]output.Result, error) {
		r.Clients, r.Progress = cl, output.NewProgress(io.Discard)
		return moveArtifacts(ctx, &r, b)
	}
	if res, err := run(section.Run{}); err != nil || len(res) != 0 {
		t.Fatalf("no minio Deployment: %v %+v, want nothing done", err, res)
	}
	sel := map[string]string{"app": "minio"}
	minio := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "minio", Namespace: "kubeflow"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: sel},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "minio", Image: "minio"}}}}}}
	minio, err := c.Client.AppsV1().Deployments("kubeflow").Create(ctx, minio, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	jobs := c.Client.BatchV1().Jobs("kubeflow")
	if res, err := run(section.Run{DryRun: core.DryRunServer}); err != nil || len(res) != 2 || res[0].DryRun != core.DryRunServer {
		t.Fatalf("server dry run: %v %+v, want the Job and Service it would create", err, res)
	}
	if _, err := jobs.Get(ctx, CopyJobName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the dry run created the Job: %v", err)
	}
	res, err := run(section.Run{})
	if err != nil || len(res) != 2 || res[0].Action != output.Created {
		t.Fatalf("run without --wait: %v %+v", err, res)
	}
	job, err := jobs.Get(ctx, CopyJobName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	assertCopyWiring(t, job)
	svc, err := c.Client.CoreV1().Services("kubeflow").Get(ctx, CopySourceService, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.OwnerReferences) != 1 || svc.OwnerReferences[0].UID != job.UID || svc.Spec.Selector["app"] != "minio" || len(svc.Spec.Selector) != 1 || svc.Spec.Ports[0].Port != 9000 {
		t.Errorf("Service %s: owners %v, selector %v, ports %v: want owned by the Job, selecting minio's pods, on 9000", CopySourceService, svc.OwnerReferences, svc.Spec.Selector, svc.Spec.Ports)
	}
	if res, err := run(section.Run{}); err != nil || len(res) != 0 {
		t.Errorf("second run while the Job runs: %v %+v, want nothing new", err, res)
	}
	if again, _ := jobs.Get(ctx, CopyJobName, metav1.GetOptions{}); again.UID != job.UID {
		t.Error("the second run made a new Job")
	}

	// The Job controller's verdict, written as it writes it.
	now := metav1.Now()
	job.Status = batchv1.JobStatus{StartTime: &now, Failed: 4, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastTransitionTime: now}}}
	if _, err := jobs.UpdateStatus(ctx, job, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mark the Job failed: %v", err)
	}
	_, err = run(section.Run{Wait: true})
	if err == nil || !strings.Contains(err.Error(), "BackoffLimitExceeded") || !strings.Contains(err.Error(), "kubectl logs -n kubeflow job/"+CopyJobName) {
		t.Errorf("a failed copy: %v, want an error naming the reason and the logs", err)
	}
	if _, err := c.Client.AppsV1().Deployments("kubeflow").Get(ctx, "minio", metav1.GetOptions{}); err != nil {
		t.Errorf("minio is gone after a failed copy: %v", err)
	}
	_ = jobs.Delete(ctx, CopyJobName, metav1.DeleteOptions{})
	_ = c.Client.AppsV1().Deployments("kubeflow").Delete(ctx, minio.Name, metav1.DeleteOptions{})
}

// assertCopyWiring checks the copy Job: rclone from the copy's own Service to SeaweedFS's S3
// port, every key from Secret mlpipeline-minio-artifact (none written in the Job), no sidecar.
func assertCopyWiring(t *testing.T, job *batchv1.Job) {
	t.Helper()
	pod := job.Spec.Template
	if pod.Labels["sidecar.istio.io/inject"] != "false" || len(pod.Spec.Containers) != 1 {
		t.Fatalf("copy Job pod: labels %v, %d containers", pod.Labels, len(pod.Spec.Containers))
	}
	ctr := pod.Spec.Containers[0]
	env := map[string]corev1.EnvVar{}
	for _, e := range ctr.Env {
		env[e.Name] = e
	}
	for remote, endpoint := range map[string]string{"SOURCE": "http://" + CopySourceService + ".kubeflow.svc:9000", "TARGET": "http://seaweedfs.kubeflow.svc:8333"} {
		if got := env["RCLONE_CONFIG_"+remote+"_ENDPOINT"].Value; got != endpoint {
			t.Errorf("%s endpoint %q, want %q", remote, got, endpoint)
		}
		for name, key := range map[string]string{"ACCESS_KEY_ID": "accesskey", "SECRET_ACCESS_KEY": "secretkey"} {
			e := env["RCLONE_CONFIG_"+remote+"_"+name]
			if e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != "mlpipeline-minio-artifact" || e.ValueFrom.SecretKeyRef.Key != key {
				t.Errorf("%s %s: %+v, want the key %s of Secret mlpipeline-minio-artifact", remote, name, e, key)
			}
		}
	}
	if !slices.Equal(ctr.Args[:3], []string{"copy", "SOURCE:", "TARGET:"}) || ctr.Image != CopyImage {
		t.Errorf("copy container: %s %v", ctr.Image, ctr.Args)
	}
}
