package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// reclaimGrace bounds the wait for claims of the class being deleted, and volumes the provisioner
// is reclaiming, to go before it is uninstalled (an uninstall of Kubeflow's data just before).
const reclaimGrace = time.Minute

// uninstall uninstalls the provisioner's release of namespace ns through helm's uninstall action
// (its Deployment and its StorageClass go with it), then its namespace when the plugin created it
// and nothing else is left there (kube.Leftovers). It first gives claims of the class that are
// being deleted, and Released volumes of the class the provisioner is to delete, up to a minute
// to go, so their volumes are not orphaned. It refuses (exit 2, nothing changed) while
// PersistentVolumeClaims of that StorageClass are bound, unless o.Force (or o.KeepIfBound: then
// the release is kept): their volumes would lose the provisioner that deletes or archives them.
// It never deletes a claim, a volume or anything on the NFS server (the plugin cannot reach the
// export): the report says what stays, including the default-class annotations `storage` set to
// "false" on other classes.
func (in installer) uninstall(ctx context.Context, ns string, o section.UninstallOptions) (*output.Report, error) {
	rep := &output.Report{}
	rel, err := in.Helm.Find(ns, ChartName)
	if err != nil {
		return rep, core.Wrapf(err, "storage")
	}
	if rel == nil {
		left, err := (&kube.Leftovers{Clients: in.Clients, DryRun: in.DryRun, Wait: in.Wait}).Namespace(ctx, ns, "")
		if left != nil {
			rep.Add(*left)
		}
		if err == nil && !rep.Changed() {
			rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no %s release in namespace %s", ChartName, ns))
		}
		return rep, err
	}
	class := DefaultClass
	if sc, ok := rel.Config["storageClass"].(map[string]any); ok {
		if name, ok := sc["name"].(string); ok && name != "" {
			class = name
		}
	}
	if !in.DryRun.Active() {
		if err := in.awaitReclaim(ctx, class); err != nil {
			return rep, err
		}
	}
	bound, err := in.boundClaims(ctx, class)
	if err != nil {
		return rep, err
	}
	if len(bound) > 0 && !o.Force {
		if o.KeepIfBound {
			rep.Add(output.Result{Kind: helm.ResultKind, Namespace: rel.Namespace, Name: rel.Name, Action: output.Kept,
				Detail: fmt.Sprintf("%s of StorageClass %s bound (%s)", output.Count(len(bound), "PersistentVolumeClaim"), class, strings.Join(bound, ", "))})
			rep.Notes = append(rep.Notes, fmt.Sprintf("kept: the provisioner release, which serves the kept claims of StorageClass %s; --delete-data deletes the claims the platform made first, --force uninstalls it anyway", class))
			return rep, nil
		}
		return rep, core.UsageErrorf("storage uninstall: %s of StorageClass %s %s bound (%s): their volumes would lose the provisioner that deletes or archives them; delete the claims first, or give --force to uninstall anyway (the claims and their data stay), nothing was changed",
			output.Count(len(bound), "PersistentVolumeClaim"), class, isAre(len(bound)), strings.Join(bound, ", "))
	}
	res, err := in.Helm.UninstallRelease(ctx, rel, in.DryRun, in.Wait, core.Budget(ctx, in.Timeout))
	rep.Add(res)
	if err != nil {
		return rep, err
	}
	left, err := (&kube.Leftovers{Clients: in.Clients, DryRun: in.DryRun, Wait: in.Wait}).Namespace(ctx, ns, rel.Name)
	if left != nil {
		rep.Add(*left)
	}
	if err != nil {
		return rep, err
	}
	if len(bound) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("kept (--force): %s of StorageClass %s and their volumes (%s); nothing provisions or archives them now", output.Count(len(bound), "bound PersistentVolumeClaim"), class, strings.Join(bound, ", ")))
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("StorageClass %s went with the release; the data on the NFS export is never touched; other classes `storage` made non-default stay so: mark the one you want with `kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true --overwrite`", class))
	return rep, nil
}

// awaitReclaim waits, at most reclaimGrace, while claims of class are being deleted or volumes
// of class are Released with reclaim policy Delete (the provisioner deletes those), saying so.
func (in installer) awaitReclaim(ctx context.Context, class string) error {
	said := false
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, reclaimGrace, true, func(ctx context.Context) (bool, error) {
		going, err := in.goingAway(ctx, class)
		if err != nil || going == 0 {
			return err == nil, err
		}
		if !said {
			in.Progress.Logf("storage: waiting up to %s for %s of StorageClass %s to be deleted and reclaimed before the provisioner goes", reclaimGrace, output.Count(going, "claim or volume"), class)
			said = true
		}
		return false, nil
	})
	if err != nil && ctx.Err() == nil && wait.Interrupted(err) {
		in.Progress.Logf("warning: storage: claims or volumes of StorageClass %s still being deleted after %s: going on", class, reclaimGrace)
		return nil
	}
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("storage uninstall: stopped (%v) while waiting for claims and volumes of StorageClass %s being deleted to go: %w", context.Cause(ctx), class, err)
	}
	return err
}

// goingAway counts claims of class being deleted and Released volumes of class to be deleted.
func (in installer) goingAway(ctx context.Context, class string) (int, error) {
	claims, err := in.Clients.Client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("storage uninstall: list PersistentVolumeClaims: %w", err)
	}
	n := 0
	for _, c := range claims.Items {
		if c.Spec.StorageClassName != nil && *c.Spec.StorageClassName == class && c.DeletionTimestamp != nil {
			n++
		}
	}
	pvs, err := in.Clients.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("storage uninstall: list PersistentVolumes: %w", err)
	}
	for _, pv := range pvs.Items {
		if pv.Spec.StorageClassName == class && pv.Status.Phase == corev1.VolumeReleased && pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete {
			n++
		}
	}
	return n, nil
}

// boundClaims lists the bound PersistentVolumeClaims of class as namespace/name, sorted.
func (in installer) boundClaims(ctx context.Context, class string) ([]string, error) {
	list, err := in.Clients.Client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage uninstall: list PersistentVolumeClaims: %w", err)
	}
	var out []string
	for _, c := range list.Items {
		if c.Spec.StorageClassName != nil && *c.Spec.StorageClassName == class && c.Status.Phase == corev1.ClaimBound {
			out = append(out, c.Namespace+"/"+c.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
