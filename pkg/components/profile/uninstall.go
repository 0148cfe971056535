package profile

import (
	"context"
	"sort"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall deletes the PodDefault access-ml-pipeline this command made in every namespace (one
// made by anyone else is left and reported so), whatever the namespaces were named by: Profiles
// since deleted included. A cluster that no longer serves PodDefaults (Kubeflow uninstalled, which
// took them with their CRD) has nothing to uninstall.
func (in *Installer) Uninstall(ctx context.Context) (*output.Report, error) {
	in.Clients.ResetMapper() // what kubectl's discovery cache remembers may be gone (Kubeflow uninstalled just before)
	if err := CheckInstalled(in.Clients); err != nil {
		if core.IsUsageError(err) {
			return &output.Report{Notes: []string{"nothing to uninstall: the cluster does not serve PodDefaults (Kubeflow is not installed)"}}, nil
		}
		return &output.Report{}, err
	}
	live, err := in.LivePodDefaults(ctx)
	if err != nil {
		return &output.Report{}, err
	}
	targets := make([]Target, 0, len(live))
	for ns := range live {
		targets = append(targets, Target{Namespace: ns})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Namespace < targets[j].Namespace })
	rep, err := in.Remove(ctx, targets)
	if err == nil && !rep.Changed() {
		rep.Notes = append(rep.Notes, "nothing to uninstall: no PodDefault "+PodDefaultName+" made by this command")
	}
	return rep, err
}
