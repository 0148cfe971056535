package lb

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Spec is the lb section as the command's flags or the platform file give it.
type Spec struct {
	// Config is what Converge makes true; no Addresses means probe only.
	Config Config
	// ServiceCIDRs are given service ranges for the overlap warnings (read from the cluster when
	// it serves ServiceCIDR objects).
	ServiceCIDRs []netip.Prefix
	// Probe proves afterwards that a LoadBalancer Service gets an IP from the pool.
	Probe bool
}

// Apply is the lb section: pick the chart version, warn about overlaps, converge, probe. The lb
// command and `apply -f` both run it; the report holds what was done also on error.
func (in *Installer) Apply(ctx context.Context, s Spec) (*output.Report, error) {
	rep := &output.Report{}
	c := s.Config
	ctx, cancel := core.WithBudget(ctx, c.Timeout) // --timeout is the whole section's
	defer cancel()
	if len(c.Addresses) > 0 {
		if err := in.ResolveChart(&c.Chart); err != nil {
			return rep, err
		}
		if _, err := in.Preflight(ctx, c.Addresses, s.ServiceCIDRs); err != nil {
			return rep, err
		}
		r, err := in.Converge(ctx, c)
		rep.Add(r.Results...)
		rep.Notes = append(rep.Notes, r.Notes...)
		if err != nil {
			return rep, err
		}
	}
	if s.Probe {
		res, err := in.Probe(ctx, c.Namespace, c.Pool, core.Budget(ctx, c.Timeout))
		if err != nil {
			return rep, err
		}
		if res.Existing {
			rep.Notes = append(rep.Notes, fmt.Sprintf("probe: every address of pool %s is in use; LoadBalancer Service %s holds %s from it, which proves MetalLB hands them out (no probe Service created: it could get none)", res.Pool, res.Service, res.IP))
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("probe: LoadBalancer Service %s got external IP %s from pool %s; Service deleted", res.Service, res.IP, res.Pool))
		}
	}
	return rep, nil
}
