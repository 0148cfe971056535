package storage

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Smoke-test objects carry these labels: SmokeTestLabel=SmokeTestValue and the managed-by label.
const (
	SmokeTestLabel = "app.kubernetes.io/name"
	SmokeTestValue = "flexigrobots-storage-smoke-test"
	// SmokeTestImage is the image of the runbook's test pod (upstream deploy/test-pod.yaml).
	SmokeTestImage = "busybox:stable"
)

// SmokeResult says what the smoke test proved and where its file is on the NFS server.
type SmokeResult struct {
	Namespace string `json:"namespace"`
	Claim     string `json:"claim"`
	Pod       string `json:"pod"`
	Volume    string `json:"volume"`
	// File is <path>/<namespace>-<claim>-<volume>/SUCCESS on the NFS server.
	File string `json:"file"`
	// Archived tells whether the provisioner renames the folder archived-... now that the claim
	// is deleted (the class's archiveOnDelete, true by default).
	Archived bool `json:"archived"`
}

// Notes are what the command prints: the result, then where the file is, then (when the
// provisioner archives) what became of its folder; short lines, each path on its own.
func (r *SmokeResult) Notes() []string {
	notes := []string{
		fmt.Sprintf("smoke test passed: pod %s/%s wrote SUCCESS on claim %s (both deleted)", r.Namespace, r.Pod, r.Claim),
		fmt.Sprintf("smoke test volume %s, file on the NFS server:", r.Volume),
		"  " + r.File,
	}
	if r.Archived {
		i := strings.LastIndex(r.File, "/")
		dir := r.File[:i]
		j := strings.LastIndex(dir, "/")
		notes = append(notes, "the claim is deleted, so the provisioner renamed the folder (archiveOnDelete: true):",
			fmt.Sprintf("  %s/archived-%s", dir[:j], dir[j+1:]))
	}
	return notes
}

// smokeTest is the runbook's test claim and test pod: a claim of the spec's class and a
// run-to-completion pod that writes SUCCESS on it, both with unique names in the release
// namespace. It waits, within what is left of ctx's budget, until the claim is Bound and the pod
// Succeeded, then deletes both, and also on failure or when ctx is cancelled (Ctrl-C), with a
// fresh short context.
func (in installer) smokeTest(ctx context.Context, s *Spec) (res *SmokeResult, err error) {
	cs := in.Clients.Client
	ns, class := s.ReleaseNamespace, s.StorageClass
	name := "flexigrobots-smoke-" + utilrand.String(5)
	labels := map[string]string{SmokeTestLabel: SmokeTestValue, kube.ManagedByLabel: kube.FieldManager}
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To(class),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}},
		},
	}
	pod := smokePod(name, ns, labels)
	if err := s.Registry.RewritePodSpec(&pod.Spec); err != nil {
		return nil, fmt.Errorf("storage: smoke test: %w", err)
	}

	within := ""
	if _, ok := ctx.Deadline(); ok {
		within = fmt.Sprintf(" up to %s", core.Budget(ctx, 0).Round(time.Second))
	}
	in.Progress.Logf("storage: smoke test: claim and pod %s/%s (class %s), waiting%s", ns, name, class, within)
	if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{FieldManager: kube.FieldManager}); err != nil {
		return nil, fmt.Errorf("storage: smoke test: create claim %s/%s: %w", ns, name, err)
	}
	var volume string
	defer func() {
		// A fresh context: the caller's may be cancelled (Ctrl-C) or past its deadline.
		cctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cerr := in.cleanup(cctx, ns, name, volume)
		switch {
		case cerr != nil && err == nil:
			err = fmt.Errorf("storage: smoke test: %w", cerr)
		case cerr != nil:
			in.Progress.Logf("storage: smoke test: %v", cerr)
		case err != nil:
			in.Progress.Logf("storage: smoke test: claim and pod %s/%s deleted", ns, name)
		}
	}()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{FieldManager: kube.FieldManager}); err != nil {
		return nil, fmt.Errorf("storage: smoke test: create pod %s/%s: %w", ns, name, err)
	}

	w := &kube.Waiter{Clients: in.Clients, Progress: in.Progress, Label: "storage: smoke test"}
	if err := w.Wait(ctx, []kube.Target{{GVR: kube.PVCsGVR, Namespace: ns, Name: name}}); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("storage: smoke test interrupted (%v) while claim %s/%s was not Bound yet", ctx.Err(), ns, name)
		}
		return nil, fmt.Errorf("storage: smoke test: claim %s/%s not Bound: %w; is the provisioner running (kubectl logs -n %s deploy/%s) and can it mount the export?", ns, name, err, ns, ReleaseName)
	}
	bound, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: smoke test: read claim %s/%s: %w", ns, name, err)
	}
	volume = bound.Spec.VolumeName
	if err := in.waitSucceeded(ctx, ns, name); err != nil {
		return nil, err
	}
	res = &SmokeResult{Namespace: ns, Claim: name, Pod: name, Volume: volume,
		File: fmt.Sprintf("%s/%s-%s-%s/SUCCESS", strings.TrimSuffix(path.Clean(s.NFSPath), "/"), ns, name, volume)}
	if sc, err := cs.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{}); err == nil {
		res.Archived = sc.Parameters["archiveOnDelete"] != "false" && sc.Parameters["onDelete"] == ""
	}
	return res, nil
}

// waitSucceeded waits for the pod to end: Succeeded is the proof, Failed an error with the
// container's exit code and reason.
func (in installer) waitSucceeded(ctx context.Context, ns, name string) error {
	var phase corev1.PodPhase
	var why string
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := in.Clients.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		phase, why = p.Status.Phase, podReason(p)
		in.Progress.Update("storage: smoke test: pod %s/%s %s%s", ns, name, phase, why)
		return phase == corev1.PodSucceeded || phase == corev1.PodFailed, nil
	})
	in.Progress.Done()
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled):
		return fmt.Errorf("storage: smoke test interrupted (%v) while pod %s/%s was %s", ctx.Err(), ns, name, phase)
	case err != nil:
		return fmt.Errorf("storage: smoke test: pod %s/%s did not complete (phase %s%s): %w; look at kubectl describe pod -n %s %s", ns, name, phase, why, err, ns, name)
	case phase == corev1.PodFailed:
		return fmt.Errorf("storage: smoke test: pod %s/%s failed%s: it could not write on the NFS export; check the export's permissions on the server (the runbook's chown nobody:nogroup and chmod 777)", ns, name, why)
	}
	return nil
}

func podReason(p *corev1.Pod) string {
	for _, s := range p.Status.ContainerStatuses {
		if w := s.State.Waiting; w != nil {
			return fmt.Sprintf(", container waiting: %s %s", w.Reason, w.Message)
		}
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 {
			return fmt.Sprintf(", container exited %d: %s %s", t.ExitCode, t.Reason, t.Message)
		}
	}
	return ""
}

// cleanup deletes the smoke-test pod and claim and waits until they and the volume are gone.
func (in installer) cleanup(ctx context.Context, ns, name, volume string) error {
	cs := in.Clients.Client
	opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
	var errs []error
	if err := cs.CoreV1().Pods(ns).Delete(ctx, name, opts); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete pod %s/%s: %w", ns, name, err))
	}
	if err := cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, name, opts); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete claim %s/%s: %w", ns, name, err))
	}
	if len(errs) > 0 {
		return fmt.Errorf("clean up: %w; delete them with kubectl delete pod,pvc -n %s %s", errors.Join(errs...), ns, name)
	}
	in.Progress.Update("storage: smoke test: deleting claim and pod %s/%s", ns, name)
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if _, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		if volume == "" {
			return true, nil
		}
		_, err := cs.CoreV1().PersistentVolumes().Get(ctx, volume, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	in.Progress.Done()
	if err != nil {
		left := "pod and claim " + ns + "/" + name
		if volume != "" {
			left += " or volume " + volume
		}
		return fmt.Errorf("clean up: %s still there after deletion (the provisioner deletes the volume; is it running?): check kubectl get pod,pvc -n %s %s and kubectl get pv", left, ns, name)
	}
	return nil
}

// smokePod is the runbook's test pod: it writes SUCCESS on claim name and exits.
func smokePod(name, namespace string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "test-pod", Image: SmokeTestImage,
				Command:      []string{"/bin/sh", "-c", "touch /mnt/SUCCESS && exit 0 || exit 1"},
				VolumeMounts: []corev1.VolumeMount{{Name: "nfs-pvc", MountPath: "/mnt"}},
			}},
			Volumes: []corev1.Volume{{Name: "nfs-pvc", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: name},
			}}},
		},
	}
}
