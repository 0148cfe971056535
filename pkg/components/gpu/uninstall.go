package gpu

import (
	"context"
	"fmt"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall removes what `gpu operator` and `gpu slicing` made: the gpu-operator release of
// namespace through helm's uninstall action (under whatever name it has: the runbook's is
// generated), then the time-slicing ConfigMap `gpu slicing` wrote (one not made by the plugin is
// left, with a note). As with helm, the CRDs of the chart's crds/ folders (nvidia.com, NFD's) and
// the namespace stay; so do the node labels feature discovery set. The report says so.
func (in *Installer) Uninstall(ctx context.Context, namespace, dryRun string, wait bool, timeout time.Duration) (*output.Report, error) {
	ctx, cancel := cmdutil.WithBudget(ctx, timeout)
	defer cancel()
	rep := &output.Report{}
	res, found, err := in.Helm.Uninstall(ctx, namespace, ChartName, dryRun, wait, cmdutil.Budget(ctx, timeout))
	if found {
		rep.Add(res)
	}
	if err != nil {
		return rep, err
	}
	cm, err := in.deleteConfig(ctx, SlicingOptions{Namespace: namespace, ConfigName: DefaultConfigName, DryRun: dryRun})
	if err != nil {
		return rep, err
	}
	if cm != nil {
		rep.Add(*cm)
	}
	if !found && cm == nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no %s release and no time-slicing ConfigMap %s in namespace %s", ChartName, DefaultConfigName, namespace))
		return rep, nil
	}
	rep.Notes = append(rep.Notes, fmt.Sprintf("kept, as helm keeps them: the CRDs of the chart's crds/ folders (nvidia.com, resource.nvidia.com, node feature discovery's) and namespace %s; the nodes keep the labels feature discovery set", namespace))
	return rep, nil
}
