package lb

import (
	"context"
	"fmt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall removes what `lb` made: first the pool and L2Advertisement it applied (its ApplySet,
// while MetalLB's webhook still answers), then the MetalLB release of namespace through helm's
// uninstall (MetalLB's CRDs go with it: they are templates of the chart's crds subchart, so
// objects of the release), then the namespace once nothing but Kubernetes' own objects is left in
// it, when the plugin created it (kube.Leftovers). kube-proxy's strictARP, which
// `lb --fix-strict-arp` may have set, stays (other load balancers want it too). The report says
// so. Nothing installed: nothing happens, and the report says that.
func (in *Installer) Uninstall(ctx context.Context, c Config) (*output.Report, error) {
	ctx, cancel := core.WithBudget(ctx, c.Timeout)
	defer cancel()
	rep := &output.Report{}
	wait := c.Wait && !c.dryRun()
	a := &kube.Applier{Clients: in.Clients, DryRun: c.DryRun, Progress: in.Progress, Section: "lb"}
	results, err := a.Uninstall(ctx, kube.Uninstall{Wait: wait})
	rep.Add(results...)
	if err != nil {
		return rep, err
	}
	res, rel, err := in.Helm.Uninstall(ctx, c.Namespace, ChartName, c.DryRun, wait, core.Budget(ctx, c.Timeout))
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
	left, err := (&kube.Leftovers{Clients: in.Clients, DryRun: c.DryRun, Wait: wait, Set: kube.ApplySetID("lb")}).Namespace(ctx, c.Namespace, relName)
	if left != nil {
		rep.Add(*left)
	}
	if err != nil {
		return rep, err
	}
	if len(results) == 0 && rel == nil && !rep.Changed() {
		rep.Notes = append(rep.Notes, fmt.Sprintf("nothing to uninstall: no MetalLB release in namespace %s and no apply record %s/%s", c.Namespace, kube.RecordNamespace, kube.RecordName("lb")))
		return rep, nil
	}
	rep.Notes = append(rep.Notes, "MetalLB's CRDs (metallb.io) are objects of its release (the chart's crds subchart): helm's uninstall deletes them, and with them any metallb.io object made by hand; kube-proxy's ipvs.strictARP stays as it is")
	return rep, nil
}
