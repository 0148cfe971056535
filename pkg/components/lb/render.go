package lb

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Render renders MetalLB's chart at the version Apply would pick, and the pool and
// L2Advertisement; nothing without addresses (then Apply installs nothing). The probe starts no
// pod: it creates a LoadBalancer Service only.
func (lbSection) Render(ctx context.Context, r *section.Run, sp section.Spec) (*section.Rendered, error) {
	s := *sp.(*Spec)
	if len(s.Addresses) == 0 {
		return &section.Rendered{}, nil
	}
	server, err := r.ServerVersion()
	if err != nil {
		return nil, core.Wrapf(err, "lb")
	}
	if err := versions.MetalLB.Resolve(server, &s.Chart, r.Progress.Logf); err != nil {
		return nil, err
	}
	rel, err := r.Helm.Render(ctx, releaseSpec(&s))
	if err != nil {
		return nil, core.Wrapf(err, "lb: MetalLB release %s/%s", s.ReleaseNamespace, s.ReleaseName)
	}
	return &section.Rendered{Objects: append(rel.Objects, Objects(&s)...)}, nil
}
