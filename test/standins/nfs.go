// NFSProvisioner imitates, on the test bed, two real components:
//
//   - nfs-subdir-external-provisioner (kubernetes-sigs/nfs-subdir-external-provisioner, the
//     chart the storage command installs): for each Pending claim of a StorageClass whose
//     provisioner is the PROVISIONER_NAME of a ready provisioner Deployment (the chart's default
//     is cluster.local/nfs-subdir-external-provisioner), it creates the PV the real provisioner
//     would: name pvc-<claim uid>, an nfs source on the Deployment's NFS_SERVER with path
//     <NFS_PATH>/<namespace>-<claim>-<pv>, claimRef set, annotation pv.kubernetes.io/provisioned-by;
//     kube-controller-manager's PV controller then binds the claim. Released PVs it provisioned
//     with reclaimPolicy Delete are deleted, as the real provisioner does (it also archives or
//     removes the folder on the server, which does not exist here).
//   - the kubelet, for run-to-completion pods: kwok's stock stages only complete Job-owned pods,
//     so the smoke-test pod of `storage --smoke-test` (restartPolicy Never, label
//     app.kubernetes.io/name=flexigrobots-storage-smoke-test) is marked Succeeded once Running,
//     with its container terminated with exit code 0 — the status a kubelet reports after
//     `touch /mnt/SUCCESS && exit 0` ran on a mounted NFS volume.

package standins

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const provisionedBy = "pv.kubernetes.io/provisioned-by"

// NFSProvisioner is the stand-in; see the file comment.
type NFSProvisioner struct {
	// Interval between passes (default 250ms).
	Interval time.Duration
}

// NewNFSProvisioner returns the stand-in.
func NewNFSProvisioner() *NFSProvisioner { return &NFSProvisioner{Interval: 250 * time.Millisecond} }

// Name says what it imitates.
func (p *NFSProvisioner) Name() string {
	return "nfs-subdir-external-provisioner (PVs for NFS claims) and kubelet (run-to-completion smoke-test pods)"
}

// Run reconciles until ctx ends; errors of one pass are retried on the next.
func (p *NFSProvisioner) Run(ctx context.Context, c *testbed.Cluster) error {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		_ = p.provision(ctx, c.Client)
		_ = p.reclaim(ctx, c.Client)
		_ = p.complete(ctx, c.Client)
	}
}

// nfsTarget is where one provisioner writes: its NFS server and exported path.
type nfsTarget struct{ server, path string }

// provisioners reads the ready nfs-subdir-external-provisioner Deployments by provisioner name.
func provisioners(ctx context.Context, cs kubernetes.Interface) (map[string]nfsTarget, error) {
	deps, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]nfsTarget{}
	for _, d := range deps.Items {
		if d.Status.ReadyReplicas < 1 {
			continue
		}
		for _, ctr := range d.Spec.Template.Spec.Containers {
			if !strings.Contains(ctr.Image, "nfs-subdir-external-provisioner") {
				continue
			}
			env := map[string]string{}
			for _, e := range ctr.Env {
				env[e.Name] = e.Value
			}
			if env["PROVISIONER_NAME"] != "" {
				out[env["PROVISIONER_NAME"]] = nfsTarget{server: env["NFS_SERVER"], path: env["NFS_PATH"]}
			}
		}
	}
	return out, nil
}

func (p *NFSProvisioner) provision(ctx context.Context, cs kubernetes.Interface) error {
	pvcs, err := cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var pending []corev1.PersistentVolumeClaim
	for _, pvc := range pvcs.Items {
		if pvc.Status.Phase == corev1.ClaimPending && pvc.Spec.VolumeName == "" && pvc.DeletionTimestamp == nil {
			pending = append(pending, pvc)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	provs, err := provisioners(ctx, cs)
	if err != nil || len(provs) == 0 {
		return err
	}
	classes, err := cs.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	byName := map[string]storagev1.StorageClass{}
	var defaults []storagev1.StorageClass
	for _, sc := range classes.Items {
		byName[sc.Name] = sc
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
			defaults = append(defaults, sc)
		}
	}
	for _, pvc := range pending {
		var sc storagev1.StorageClass
		switch {
		case pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName != "":
			sc = byName[*pvc.Spec.StorageClassName]
		case pvc.Spec.StorageClassName == nil && len(defaults) == 1:
			// The DefaultStorageClass admission plugin normally fills it in; be lenient.
			sc = defaults[0]
		default:
			continue
		}
		target, ok := provs[sc.Provisioner]
		if !ok {
			continue
		}
		if sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer && pvc.Annotations["volume.kubernetes.io/selected-node"] == "" {
			continue
		}
		if err := createPV(ctx, cs, pvc, sc, target); err != nil {
			return err
		}
	}
	return nil
}

func createPV(ctx context.Context, cs kubernetes.Interface, pvc corev1.PersistentVolumeClaim, sc storagev1.StorageClass, t nfsTarget) error {
	name := "pvc-" + string(pvc.UID)
	reclaim := corev1.PersistentVolumeReclaimDelete
	if sc.ReclaimPolicy != nil {
		reclaim = *sc.ReclaimPolicy
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{provisionedBy: sc.Provisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes:                   pvc.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: reclaim,
			StorageClassName:              sc.Name,
			MountOptions:                  sc.MountOptions,
			VolumeMode:                    pvc.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{
				Server: t.server,
				Path:   fmt.Sprintf("%s/%s-%s-%s", strings.TrimSuffix(t.path, "/"), pvc.Namespace, pvc.Name, name),
			}},
		},
	}
	if _, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// reclaim deletes Released volumes it provisioned whose policy is Delete.
func (p *NFSProvisioner) reclaim(ctx context.Context, cs kubernetes.Interface) error {
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var provs map[string]nfsTarget
	for _, pv := range pvs.Items {
		if pv.Status.Phase != corev1.VolumeReleased || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || pv.DeletionTimestamp != nil {
			continue
		}
		if provs == nil {
			if provs, err = provisioners(ctx, cs); err != nil {
				return err
			}
		}
		if _, ours := provs[pv.Annotations[provisionedBy]]; !ours {
			continue
		}
		if err := cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// smokeTestSelector finds the storage smoke-test pods by the label `storage --smoke-test` puts
// on them (written out here, not taken from the product). The test bed has no kubelet to run their
// one-shot container, so the stand-in ends them as it would.
const smokeTestSelector = "app.kubernetes.io/name=flexigrobots-storage-smoke-test"

// complete reports the smoke-test pods Succeeded once Running, as their kubelet would.
func (p *NFSProvisioner) complete(ctx context.Context, cs kubernetes.Interface) error {
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: smokeTestSelector})
	if err != nil {
		return err
	}
	for _, pod := range pods.Items {
		if pod.Status.Phase != corev1.PodRunning || pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.DeletionTimestamp != nil {
			continue
		}
		now := metav1.Now()
		pod.Status.Phase = corev1.PodSucceeded
		var statuses []corev1.ContainerStatus
		for _, ctr := range pod.Spec.Containers {
			statuses = append(statuses, corev1.ContainerStatus{
				Name: ctr.Name, Image: ctr.Image,
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now}},
			})
		}
		pod.Status.ContainerStatuses = statuses
		for i := range pod.Status.Conditions {
			if pod.Status.Conditions[i].Type == corev1.PodReady || pod.Status.Conditions[i].Type == corev1.ContainersReady {
				pod.Status.Conditions[i].Status = corev1.ConditionFalse
				pod.Status.Conditions[i].Reason = "PodCompleted"
				pod.Status.Conditions[i].LastTransitionTime = now
			}
		}
		if _, err := cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, &pod, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}
