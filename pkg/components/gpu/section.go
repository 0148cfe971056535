package gpu

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Section is the gpu section (see pkg/section): `gpu operator`, `gpu slicing`, `gpu uninstall`
// and the platform file's gpu block all run through it.
var Section section.Section = gpuSection{}

// gpuSection implements section.Section; it has no state of its own.
type gpuSection struct{}

// Name is "gpu".
func (gpuSection) Name() string { return Name }

// Needs none: the operator runs beside every other section.
func (gpuSection) Needs() []string { return nil }

// NewSpec is an empty *Spec.
func (gpuSection) NewSpec() section.Spec { return &Spec{} }

// Prepare refuses an operator chart version given that cannot install on r.Server (read from
// the cluster when the Run has none; exit code 2), naming the file's field
// operator.chart.version; the commands leave it to Apply, which names --chart-version.
func (gpuSection) Prepare(_ context.Context, r *section.Run, s section.Spec) error {
	spec, err := specOf(s)
	if err != nil {
		return err
	}
	if v := spec.Operator.Chart.Version; v != "" && !spec.SkipOperator {
		server, err := r.ServerVersion()
		if err != nil {
			return core.Wrapf(err, "gpu")
		}
		if err := versions.GPUOperator.CheckGiven("operator.chart.version", server, v); err != nil {
			return err
		}
	}
	return nil
}

// Apply installs or upgrades the operator (unless SkipOperator), then configures time-slicing
// when the spec has it. In a dry run with no operator installed yet, time-slicing is skipped
// with a note (the block; `gpu slicing` refuses, exit code 2).
func (gpuSection) Apply(ctx context.Context, r *section.Run, s section.Spec) (*output.Report, error) {
	rep := &output.Report{}
	spec, err := specOf(s)
	if err != nil {
		return rep, err
	}
	in := newInstaller(r)
	in.images = spec.Registry
	switch {
	case spec.SkipOperator && spec.Slicing == nil:
		return rep, nil // Validate refuses it
	case !spec.SkipOperator:
		if rep, err = in.operator(ctx, spec.Operator); err != nil || spec.Slicing == nil {
			return rep, err
		}
		if r.DryRun.Active() {
			if rel, err := r.Helm.Find(spec.namespace(), ChartName); err != nil || rel == nil {
				rep.Notes = append(rep.Notes, "time-slicing skipped: dry run, and the operator it configures is not installed yet")
				return rep, err
			}
		}
	}
	// After the operator, the release has its chart: slicing reuses it (only the repository is
	// passed on). `gpu slicing` upgrades with the chart flags when they give a version or chart.
	chart := core.ChartSource{Repo: spec.Operator.Chart.Repo}
	if spec.SkipOperator {
		chart = spec.Operator.Chart
	}
	srep, err := in.slicing(ctx, spec.namespace(), chart, *spec.Slicing)
	if srep != nil {
		rep.Add(srep.Results...)
		rep.Notes = append(rep.Notes, srep.Notes...)
	}
	return rep, err
}

// Uninstall removes the release of s's Operator.ReleaseNamespace and what goes with it (see
// installer.uninstall); o does not matter.
func (gpuSection) Uninstall(ctx context.Context, r *section.Run, s section.Spec, _ section.UninstallOptions) (*output.Report, error) {
	spec, err := specOf(s)
	if err != nil {
		return &output.Report{}, err
	}
	return newInstaller(r).uninstall(ctx, spec.namespace())
}

// Checks are the checks of `verify --section gpu`.
func (gpuSection) Checks() []checks.Check { return Checks() }

// PostConditions are GPU-001 operator ready, GPU-002 ClusterPolicy ready and GPU-003 every GPU
// node advertises GPUs (no GPU node at all is a warning) once the operator was applied; none
// for `gpu slicing` alone, which waits for the advertised GPUs itself. GPU-004 (where the pods
// pull from) is verify's: the operator rolls its operands to a new registry at its own pace.
func (gpuSection) PostConditions(s section.Spec) []checks.Check {
	if spec, ok := s.(*Spec); ok && spec.SkipOperator {
		return nil
	}
	return checks.Pick(Checks(), "GPU-001", "GPU-002", "GPU-003")
}

// Access is the RBAC of the gpu commands.
func (gpuSection) Access() access.Section { return Access }

// specOf is s as the section's *Spec.
func specOf(s section.Spec) (*Spec, error) { return section.SpecAs[Spec](Name, s) }

// installer runs the section's steps with the clients, dry-run strategy, wait and budget of
// one Run.
type installer struct {
	*section.Run
	// images is the registry the operator's release and its ClusterPolicy pull from.
	images images.Registry
}

// newInstaller is an installer of r; a Run without a dry-run strategy is none.
func newInstaller(r *section.Run) *installer {
	if r.DryRun == "" {
		c := *r
		c.DryRun = core.DryRunNone
		r = &c
	}
	return &installer{Run: r}
}
