package kubeflow

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// The objects of the artifact copy from minio to SeaweedFS, all in namespace kubeflow.
const (
	// CopyJobName is the Job that copies the pipelines' artifacts; it stays after it has
	// succeeded, for its log.
	CopyJobName = "flexigrobots-copy-minio-to-seaweedfs"
	// CopySourceService reaches the minio pods: from v1.11.0, minio-service selects SeaweedFS.
	// The Job owns it; the copy step deletes it once the Job has succeeded.
	CopySourceService = "flexigrobots-minio-source"
	// CopyImage is the S3 copier: rclone, which takes both stores' settings from the environment
	// (no config file, no shell). Release v1.73.1 of rclone/rclone; its image is published under
	// the release's number.
	CopyImage = "docker.io/rclone/rclone:1.73.1"
	// minioPolicy is the AuthorizationPolicy that lets clients reach minio's sidecar past
	// istio-system/global-deny-all; v1.11.0 drops it with minio, so it is kept while minio is.
	minioPolicy = "minio-service"
)

// authorizationPolicies are Istio's AuthorizationPolicies (v1beta1 is served by every Istio of
// the releases that carry minio and SeaweedFS).
var authorizationPolicies = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}

// copyArtifacts: v1.11.0 replaces minio by SeaweedFS and copies nothing. After the apply (SeaweedFS
// is there, minio and its claim kept), a Job copies every bucket from the minio pods to
// SeaweedFS with the credentials both read from Secret kubeflow/mlpipeline-minio-artifact; once it
// has succeeded, minio's Deployment and AuthorizationPolicy are deleted. Its claim stays.
var copyArtifacts = Migration{
	Name: "copy Kubeflow Pipelines' artifacts from minio to SeaweedFS (Job kubeflow/" + CopyJobName +
		"), then delete Deployment kubeflow/minio; its claim kubeflow/minio-pvc stays",
	Source:     "kubeflow/manifests 26.03 README, Upgrading: \"1.10.2 -> 1.11.0 migrates from minio to seaweedfs, so you should delete minio and maybe migrate your data via S3 commands to seaweedfs\"",
	AfterApply: true,
	Run:        moveArtifacts,
}

// moveArtifacts is copyArtifacts' work, from what the cluster holds, so that a re-run goes on
// where the last stopped: nothing when minio's Deployment or claim is gone (nothing to copy); the
// Job created when it is not there; waited for (with --wait); minio deleted once it succeeded.
//
// The test bed runs no containers: kwok ends the Job's pod as succeeded and the real Job
// controller completes the Job, which proves the order, the wiring and what is deleted when, not
// the copy itself.
func moveArtifacts(ctx context.Context, r *section.Run, b *Built) ([]output.Result, error) {
	if b.Profile.ObjectStore.Name != seaweedStore.Name {
		return nil, nil
	}
	cs := r.Clients.Client
	minio, err := cs.AppsV1().Deployments("kubeflow").Get(ctx, minioStore.Workload.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Deployment kubeflow/minio: %w", err)
	}
	if _, err := cs.CoreV1().PersistentVolumeClaims("kubeflow").Get(ctx, minioData.Name, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return nil, nil // no data: the prune takes minio
	} else if err != nil {
		return nil, fmt.Errorf("read claim kubeflow/%s: %w", minioData.Name, err)
	}
	var res []output.Result
	job, err := cs.BatchV1().Jobs("kubeflow").Get(ctx, CopyJobName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		job, res, err = startCopy(ctx, r, minio.Spec.Selector.MatchLabels, b.Images)
		if err != nil || r.DryRun.Active() {
			return res, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("read Job kubeflow/%s: %w", CopyJobName, err)
	}
	if done, _ := jobEnded(job); !done {
		if !r.Wait {
			r.Progress.Logf("kubeflow: Job kubeflow/%s copies the artifacts; minio stays until a run finds it succeeded", CopyJobName)
			return res, nil
		}
		if job, err = waitCopy(ctx, r); err != nil {
			return res, err
		}
	}
	if _, failed := jobEnded(job); failed != "" {
		return res, fmt.Errorf("copying the pipelines' artifacts to SeaweedFS failed (Job kubeflow/%s: %s): minio and its claim stay; read `kubectl logs -n kubeflow job/%s`, then delete the Job and run the command again",
			CopyJobName, failed, CopyJobName)
	}
	gone, err := removeMinio(ctx, r, minio)
	return append(res, gone...), err
}

// startCopy creates the Job and, owned by it, the Service to the minio pods (selected by sel);
// a dry run only says it would.
func startCopy(ctx context.Context, r *section.Run, sel map[string]string, reg images.Registry) (*batchv1.Job, []output.Result, error) {
	job, svc := copyJob(), copySource(sel)
	if err := reg.RewritePodSpec(&job.Spec.Template.Spec); err != nil {
		return nil, nil, fmt.Errorf("Job kubeflow/%s: %w", CopyJobName, err)
	}
	res := []output.Result{
		{Kind: "Job", Namespace: "kubeflow", Name: CopyJobName, Action: output.Created, Detail: "copies every bucket of minio to SeaweedFS", DryRun: r.DryRun},
		{Kind: "Service", Namespace: "kubeflow", Name: CopySourceService, Action: output.Created, Detail: "the copy's way to the minio pods", DryRun: r.DryRun},
	}
	if r.DryRun == core.DryRunClient {
		return job, res, nil
	}
	opts := metav1.CreateOptions{FieldManager: kube.FieldManager}
	if r.DryRun.Active() {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	created, err := r.Clients.Client.BatchV1().Jobs("kubeflow").Create(ctx, job, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("create Job kubeflow/%s: %w", CopyJobName, err)
	}
	if !r.DryRun.Active() {
		svc.OwnerReferences = []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: created.Name, UID: created.UID}}
	}
	if _, err := r.Clients.Client.CoreV1().Services("kubeflow").Create(ctx, svc, opts); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, res[:1], fmt.Errorf("create Service kubeflow/%s: %w", CopySourceService, err)
	}
	return created, res, nil
}

// waitCopy waits until the Job has ended, saying how it goes.
func waitCopy(ctx context.Context, r *section.Run) (*batchv1.Job, error) {
	var job *batchv1.Job
	r.Progress.Logf("kubeflow: copying the pipelines' artifacts from minio to SeaweedFS (Job kubeflow/%s)", CopyJobName)
	err := wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		j, err := r.Clients.Client.BatchV1().Jobs("kubeflow").Get(ctx, CopyJobName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		job = j
		r.Progress.Update("kubeflow: copying the artifacts: Job kubeflow/%s: %d running, %d failed", CopyJobName, j.Status.Active, j.Status.Failed)
		done, _ := jobEnded(j)
		return done, nil
	})
	r.Progress.Done()
	if err != nil {
		why := "has not finished"
		if errors.Is(context.Cause(ctx), context.Canceled) {
			why = "was interrupted"
		}
		return nil, fmt.Errorf("the copy of the pipelines' artifacts to SeaweedFS %s (Job kubeflow/%s keeps copying; minio and its claim stay): run the command again to wait for it; `kubectl logs -n kubeflow job/%s` shows how far it is",
			why, CopyJobName, CopyJobName)
	}
	return job, nil
}

// jobEnded tells whether the Job has ended, and why it failed ("" when it succeeded or runs).
func jobEnded(j *batchv1.Job) (bool, string) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, ""
		case batchv1.JobFailed:
			return true, c.Reason + ": " + c.Message
		}
	}
	return false, ""
}

// removeMinio deletes what served the copied artifacts: the Deployment (by its uid, so a
// Deployment made anew since is left alone), then its AuthorizationPolicy and the copy's Service.
// The claim and the Job (its log) stay.
func removeMinio(ctx context.Context, r *section.Run, minio *appsv1.Deployment) ([]output.Result, error) {
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &minio.UID}}
	err := r.Clients.Client.AppsV1().Deployments("kubeflow").Delete(ctx, minio.Name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("delete Deployment kubeflow/minio after the copy: %w", err)
	}
	res := []output.Result{{Kind: "Deployment", Namespace: "kubeflow", Name: minio.Name, Action: output.Deleted,
		Detail: fmt.Sprintf("its artifacts are in SeaweedFS (Job %s succeeded); claim kubeflow/%s stays: delete it once you have checked them", CopyJobName, minioData.Name)}}
	err = r.Clients.Dynamic.Resource(authorizationPolicies).Namespace("kubeflow").Delete(ctx, minioPolicy, metav1.DeleteOptions{})
	switch {
	case err == nil:
		res = append(res, output.Result{Kind: "AuthorizationPolicy", Namespace: "kubeflow", Name: minioPolicy, Action: output.Deleted, Detail: "minio's, which is gone"})
	case !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err):
		return res, fmt.Errorf("delete AuthorizationPolicy kubeflow/%s after the copy: %w", minioPolicy, err)
	}
	err = r.Clients.Client.CoreV1().Services("kubeflow").Delete(ctx, CopySourceService, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return res, fmt.Errorf("delete Service kubeflow/%s after the copy: %w", CopySourceService, err)
	}
	return res, nil
}
