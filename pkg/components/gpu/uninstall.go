package gpu

import (
	"context"
	"fmt"
	"slices"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// uninstall removes what `gpu operator` and `gpu slicing` made: the gpu-operator release of
// namespace through helm's uninstall action (under whatever name it has: the runbook's is
// generated), then the time-slicing ConfigMaps `gpu slicing` wrote, the one the release points at
// and the default one (one not made by the plugin is left, with a note), then what helm leaves on purpose where nothing is lost by deleting it
// (kube.Leftovers): the CRDs of the chart's crds/ folders (nvidia.com, node feature discovery's)
// that the plugin created and that hold no custom resource, and the namespace once empty. The
// nodes keep the labels feature discovery set. The report says what was kept, and why.
func (in *installer) uninstall(ctx context.Context, namespace string) (*output.Report, error) {
	rep := &output.Report{}
	res, rel, err := in.Helm.Uninstall(ctx, namespace, ChartName, in.DryRun, in.Wait, core.Budget(ctx, in.Timeout))
	if rel != nil {
		rep.Add(res)
	}
	if err != nil {
		return rep, err
	}
	// The time-slicing ConfigMaps: the one the release points the device plugin at (`gpu slicing
	// --config-name`) and the default one.
	names := []string{DefaultConfigName}
	if rel != nil {
		if cfg, ok := devicePluginConfig(rel.Config); ok {
			if n, _ := cfg["name"].(string); n != "" && n != DefaultConfigName {
				names = append([]string{n}, names...)
			}
		}
	}
	var cm *output.Result
	for _, name := range names {
		res, err := in.deleteConfig(ctx, namespace, name)
		if err != nil {
			return rep, err
		}
		if res != nil {
			rep.Add(*res)
			cm = res
		}
	}
	// The CRDs: those of the chart's crds/ folders that `gpu operator` applied (its record holds
	// them, the subcharts' too, which the release's stored chart no longer has), and those the
	// release names.
	record := &kube.Applier{Clients: in.Clients, DryRun: in.DryRun, Section: Name}
	crds, err := helm.CRDNames(rel)
	if err != nil {
		return rep, err
	}
	for _, name := range record.RecordedCRDs(ctx) {
		if !slices.Contains(crds, name) {
			crds = append(crds, name)
		}
	}
	relName := ""
	if rel != nil {
		relName = rel.Name
	}
	left, err := (&kube.Leftovers{Clients: in.Clients, DryRun: in.DryRun, Wait: in.Wait}).AfterRelease(ctx, namespace, relName, crds)
	rep.Add(left...)
	if err != nil {
		return rep, err
	}
	if err := record.ForgetRecord(ctx); err != nil {
		return rep, err
	}
	if rel == nil && cm == nil && !rep.Changed() {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no %s release and no time-slicing ConfigMap %s in namespace %s", ChartName, DefaultConfigName, namespace))
		return rep, nil
	}
	rep.Notes = append(rep.Notes, "the nodes keep the labels feature discovery set")
	return rep, nil
}
