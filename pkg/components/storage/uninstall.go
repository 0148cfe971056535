package storage

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall uninstalls the provisioner's release of namespace through helm's uninstall action
// (its Deployment and its StorageClass go with it). It refuses (exit 2, nothing changed) while
// PersistentVolumeClaims of that StorageClass are bound, unless force: their volumes would lose
// the provisioner that deletes or archives them. It never deletes a claim, a volume or anything on
// the NFS server (the plugin cannot reach the export): the report says what stays, including the
// default-class annotations `storage` set to "false" on other classes.
func (in *Installer) Uninstall(ctx context.Context, namespace string, force bool) (*output.Report, error) {
	ctx, cancel := cmdutil.WithBudget(ctx, in.Timeout)
	defer cancel()
	rep := &output.Report{}
	rel, err := in.Helm.Find(namespace, ChartName)
	if err != nil {
		return rep, cmdutil.Wrapf(err, "storage")
	}
	if rel == nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no %s release in namespace %s", ChartName, namespace))
		return rep, nil
	}
	class := DefaultClass
	if sc, ok := rel.Config["storageClass"].(map[string]any); ok {
		if name, ok := sc["name"].(string); ok && name != "" {
			class = name
		}
	}
	bound, err := in.boundClaims(ctx, class)
	if err != nil {
		return rep, err
	}
	if len(bound) > 0 && !force {
		return rep, cmdutil.UsageErrorf("storage uninstall: %s of StorageClass %s %s bound (%s): their volumes would lose the provisioner that deletes or archives them; delete the claims first, or give --force to uninstall anyway (the claims and their data stay), nothing was changed",
			output.Count(len(bound), "PersistentVolumeClaim"), class, isAre(len(bound)), strings.Join(bound, ", "))
	}
	res, err := in.Helm.UninstallRelease(ctx, rel, in.DryRun, in.Wait, cmdutil.Budget(ctx, in.Timeout))
	rep.Add(res)
	if err != nil {
		return rep, err
	}
	if len(bound) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("kept (--force): %s of StorageClass %s and their volumes (%s); nothing provisions or archives them now", output.Count(len(bound), "bound PersistentVolumeClaim"), class, strings.Join(bound, ", ")))
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("StorageClass %s went with the release; the data on the NFS export is never touched; other classes `storage` made non-default stay so: mark the one you want with `kubectl annotate storageclass NAME storageclass.kubernetes.io/is-default-class=true --overwrite`", class))
	return rep, nil
}

// boundClaims lists the bound PersistentVolumeClaims of class as namespace/name, sorted.
func (in *Installer) boundClaims(ctx context.Context, class string) ([]string, error) {
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
