package lb

import (
	"context"
	"fmt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Uninstall removes what `lb` made: first the pool and L2Advertisement it applied (its ApplySet,
// while MetalLB's webhook still answers), then the MetalLB release of namespace through helm's
// uninstall (MetalLB's CRDs go with it: they are templates of the chart's crds subchart, so
// objects of the release), then the namespace once nothing but Kubernetes' own objects is left in
// it, when the plugin created it (kube.Leftovers). kube-proxy's strictARP, which
// `lb --fix-strict-arp` may have set, stays (other load balancers want it too). The report says
// so. Nothing installed: nothing happens, and the report says that. ctx bounds it all (the
// section's budget, see section.Uninstall).
func (in *Installer) Uninstall(ctx context.Context, r *section.Run, namespace string) (*output.Report, error) {
	rep := &output.Report{}
	wait := r.Wait && !r.DryRun.Active()
	a := &kube.Applier{Clients: in.Clients, DryRun: r.DryRun, Progress: in.Progress, Section: Name}
	results, err := a.Uninstall(ctx, kube.Uninstall{Wait: wait})
	rep.Add(results...)
	if err != nil {
		return rep, err
	}
	res, rel, err := in.Helm.Uninstall(ctx, namespace, ChartName, r.DryRun, wait, core.Budget(ctx, r.Timeout))
	if rel != nil {
		rep.Add(res)
	}
	if err != nil {
		return rep, err
	}
	relName := ""
	if rel != nil {
		relName = rel.Name
	}
	left, err := (&kube.Leftovers{Clients: in.Clients, DryRun: r.DryRun, Wait: wait, Set: kube.ApplySetID(Name)}).Namespace(ctx, namespace, relName)
	if left != nil {
		rep.Add(*left)
	}
	if err != nil {
		return rep, err
	}
	if len(results) == 0 && rel == nil && !rep.Changed() {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no MetalLB release in namespace %s and no apply record %s/%s", namespace, kube.RecordNamespace, kube.RecordName(Name)))
		return rep, nil
	}
	rep.Notes = append(rep.Notes, "MetalLB's CRDs (metallb.io) are objects of its release (the chart's crds subchart): helm's uninstall deletes them, and with them any metallb.io object made by hand; kube-proxy's ipvs.strictARP stays as it is")
	return rep, nil
}
