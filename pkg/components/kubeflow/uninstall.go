package kubeflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall deletes what the kubeflow section applied: the members of its ApplySet (the build's
// objects and the Secrets converge made), custom resources first, namespaces last, then its
// apply record. Objects it did not apply (a Profile's namespace made by the profile controller,
// objects made by hand outside its namespaces, the Gateway that `tls` shares) are left alone, but
// deleting one of its namespaces deletes everything in it: the log names them first. Every
// PersistentVolumeClaim it applied holds data (Profile.DataClaims: pipelines' MySQL, its object
// store's minio-pvc or, from v1.11, seaweedfs-pvc, Katib's MySQL, v1.5's authservice sessions)
// and is kept with its namespace unless deleteData; the report says what was kept and what each
// holds. It runs within ctx's deadline (section.Uninstall bounds it by the run's budget).
func (in *Installer) Uninstall(ctx context.Context, deleteData bool) (*output.Report, error) {
	rep := &output.Report{}
	a := &kube.Applier{Clients: in.Clients, DryRun: in.DryRun, Progress: in.Progress, Section: Name}
	u := kube.Uninstall{Wait: in.Wait}
	if !deleteData {
		u.Keep = func(kind, _, _ string) (string, bool) {
			return "holds data: `kubeflow uninstall --delete-data` deletes it", kind == "PersistentVolumeClaim"
		}
	}
	in.Progress.Update("kubeflow: uninstalling")
	results, err := a.Uninstall(ctx, u)
	in.Progress.Done()
	rep.Add(results...)
	if err == nil && len(results) > 0 {
		err = recordRelease(ctx, in.Clients, in.DryRun, "") // Kubeflow is gone: no release installed
	}
	if err != nil {
		return rep, err
	}
	if len(results) == 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no apply record %s/%s (Kubeflow was not installed by this plugin, or is uninstalled already)",
			kube.RecordNamespace, kube.RecordName("kubeflow")))
		return rep, nil
	}
	var kept []string
	for _, r := range results {
		if r.Action == kube.Kept {
			k := r.Kind + " " + strings.TrimPrefix(r.Namespace+"/", "/") + r.Name
			if what := claimHolds(r.Kind, r.Namespace, r.Name); what != "" {
				k += " (" + what + ")"
			}
			kept = append(kept, k)
		}
	}
	if len(kept) > 0 {
		rep.Notes = append(rep.Notes, "kept (data): "+strings.Join(kept, ", ")+"; `kubectl flexigrobots kubeflow uninstall --delete-data` deletes them")
	}
	return rep, nil
}

// claimHolds says what a PersistentVolumeClaim of some release's build holds ("" for another
// object): the apply record does not say which release applied it.
func claimHolds(kind, ns, name string) string {
	if kind != "PersistentVolumeClaim" {
		return ""
	}
	for _, v := range Versions() {
		for _, d := range profiles[v].DataClaims {
			if d.Namespace == ns && d.Name == name {
				return d.What
			}
		}
	}
	return ""
}
