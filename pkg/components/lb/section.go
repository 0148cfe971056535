package lb

import (
	"context"
	"fmt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Section is the lb section (see pkg/section): the `lb` command and the platform file's `lb`
// block both run it. Its Spec is *Spec.
var Section section.Section = lbSection{}

type lbSection struct{}

// Name is "lb".
func (lbSection) Name() string { return Name }

// Needs nothing: MetalLB goes on a bare cluster.
func (lbSection) Needs() []string { return nil }

// NewSpec is an empty *Spec.
func (lbSection) NewSpec() section.Spec { return &Spec{} }

// Prepare refuses a chart version given that cannot install on the server (exit 2, naming
// {chart.version}); without one, Apply picks (and says) the version that fits. Without addresses
// (the command's probe only) nothing is installed, so nothing is checked.
func (lbSection) Prepare(_ context.Context, r *section.Run, sp section.Spec) error {
	s := sp.(*Spec)
	if len(s.Addresses) == 0 || s.Chart.Version == "" {
		return nil
	}
	server, err := r.ServerVersion()
	if err != nil {
		return core.Wrapf(err, "lb")
	}
	return versions.MetalLB.CheckGiven("chart.version", server, s.Chart.Version)
}

// Apply picks the chart version, warns about overlaps, converges (when addresses are given),
// then probes (with Probe; skipped in a dry run, which creates no Service, and the report says
// so). The report holds what was done also on error. Run it through section.Apply.
func (lbSection) Apply(ctx context.Context, r *section.Run, sp section.Spec) (*output.Report, error) {
	s := *sp.(*Spec) // the chart version picked stays in this copy
	rep := &output.Report{}
	in := installer(r)
	if len(s.Addresses) > 0 {
		server, err := r.ServerVersion()
		if err != nil {
			return rep, core.Wrapf(err, "lb")
		}
		if err := versions.MetalLB.Resolve(server, &s.Chart, in.Progress.Logf); err != nil {
			return rep, err
		}
		if _, err := in.Preflight(ctx, s.ranges(), s.serviceCIDRs()); err != nil {
			return rep, err
		}
		cr, err := in.Converge(ctx, r, &s)
		rep.Add(cr.Results...)
		rep.Notes = append(rep.Notes, cr.Notes...)
		if err != nil {
			return rep, err
		}
	}
	if !s.Probe {
		return rep, nil
	}
	if r.DryRun.Active() {
		rep.Notes = append(rep.Notes, "probe skipped: dry run")
		return rep, nil
	}
	res, err := in.Probe(ctx, s.ReleaseNamespace, s.Pool, core.Budget(ctx, r.Timeout))
	if err != nil {
		return rep, err
	}
	if res.Existing {
		rep.Notes = append(rep.Notes, fmt.Sprintf("probe: every address of pool %s is in use; LoadBalancer Service %s holds %s from it, which proves MetalLB hands them out (no probe Service created: it could get none)", res.Pool, res.Service, res.IP))
	} else {
		rep.Notes = append(rep.Notes, fmt.Sprintf("probe: LoadBalancer Service %s got external IP %s from pool %s; Service deleted", res.Service, res.IP, res.Pool))
	}
	return rep, nil
}

// Uninstall runs `lb uninstall` on the spec's release namespace (the default when empty).
func (lbSection) Uninstall(ctx context.Context, r *section.Run, sp section.Spec, _ section.UninstallOptions) (*output.Report, error) {
	ns := sp.(*Spec).ReleaseNamespace
	if ns == "" {
		ns = DefaultNamespace
	}
	return installer(r).Uninstall(ctx, r, ns)
}

// Checks are LB-001..LB-007.
func (lbSection) Checks() []checks.Check { return Checks() }

// PostConditions are LB-001..LB-004 for the spec's namespace, pool and addresses: MetalLB's
// controller and speaker ready, the pool with exactly these addresses, and advertised. None
// without addresses (the command's probe only installs nothing).
func (lbSection) PostConditions(sp section.Spec) []checks.Check {
	s := sp.(*Spec)
	if len(s.Addresses) == 0 {
		return nil
	}
	return checks.Pick(ChecksFor(Expect{Namespace: s.ReleaseNamespace, Pool: s.Pool, Addresses: s.ranges()}), "LB-001", "LB-002", "LB-003", "LB-004")
}

// Access is the RBAC of `lb` and `lb uninstall`.
func (lbSection) Access() access.Section { return Access }

func installer(r *section.Run) *Installer {
	return &Installer{Clients: r.Clients, Helm: r.Helm, Progress: r.Progress}
}
