package storage

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Section is the storage section (see pkg/section): the `storage` command, and the `storage`
// block of apply -f, diff -f and delete -f, run it through section.Apply and section.Uninstall.
var Section section.Section = storageSection{}

// storageSection implements section.Section; its Spec is *Spec.
type storageSection struct{}

// Name is "storage".
func (storageSection) Name() string { return Name }

// Needs is nothing: storage is the first section.
func (storageSection) Needs() []string { return nil }

// NewSpec is an empty *Spec.
func (storageSection) NewSpec() section.Spec { return &Spec{} }

// Prepare has nothing to check in the cluster: every rule of the Spec is in Validate.
// Prepare refuses a chart version given that cannot install on the server (exit 2, naming
// {chart.version}); without one, Apply picks (and says) the version that fits.
func (storageSection) Prepare(_ context.Context, r *section.Run, s section.Spec) error {
	spec, err := specOf(s)
	if err != nil || spec.Chart.Version == "" {
		return err
	}
	server, err := r.ServerVersion()
	if err != nil {
		return core.Wrapf(err, "storage")
	}
	return versions.NFSProvisioner.CheckGiven("chart.version", server, spec.Chart.Version)
}

// Apply installs or upgrades the provisioner, makes its class the only default unless the spec
// says otherwise, and runs the smoke test when asked (skipped, with a note, in a dry run). The
// report holds what was done also on error.
func (storageSection) Apply(ctx context.Context, r *section.Run, s section.Spec) (*output.Report, error) {
	given, err := specOf(s)
	if err != nil {
		return nil, err
	}
	spec := *given // the chart version picked stays in this copy
	server, err := r.ServerVersion()
	if err != nil {
		return &output.Report{}, core.Wrapf(err, "storage")
	}
	if err := versions.NFSProvisioner.Resolve(server, &spec.Chart, r.Progress.Logf); err != nil {
		return &output.Report{}, err
	}
	in := installer{r}
	rep, err := in.install(ctx, &spec)
	if err != nil || !spec.SmokeTest {
		return rep, err
	}
	if r.DryRun.Active() {
		rep.Notes = append(rep.Notes, "smoke test skipped: dry run")
		return rep, nil
	}
	res, err := in.smokeTest(ctx, &spec)
	if err != nil {
		return rep, err
	}
	rep.Notes = append(rep.Notes, res.Notes()...)
	return rep, nil
}

// Uninstall uninstalls the provisioner's release of the spec's release namespace (see
// installer.uninstall): bound claims of its class refuse it (exit 2), keep it with
// o.KeepIfBound, or are left with o.Force.
func (storageSection) Uninstall(ctx context.Context, r *section.Run, s section.Spec, o section.UninstallOptions) (*output.Report, error) {
	spec, err := specOf(s)
	if err != nil {
		return nil, err
	}
	return installer{r}.uninstall(ctx, spec.ReleaseNamespace, o)
}

// Checks are STORAGE-001..004.
func (storageSection) Checks() []checks.Check { return Checks() }

// PostConditions are the section's checks, STORAGE-003 (the class is the only default) only
// when the spec makes the class the default.
func (storageSection) PostConditions(s section.Spec) []checks.Check {
	ids := []string{"STORAGE-001", "STORAGE-002"}
	if spec, err := section.SpecAs[Spec](Name, s); err == nil && spec.isDefault() {
		ids = append(ids, "STORAGE-003")
	}
	return checks.Pick(Checks(), ids...)
}

// Access is the RBAC of `storage`, `storage exports` and `storage uninstall`.
func (storageSection) Access() access.Section { return Access }

// specOf is s as a *Spec with its defaults filled (a copy: s is not changed).
func specOf(s section.Spec) (*Spec, error) {
	spec, err := section.SpecAs[Spec](Name, s)
	if err != nil {
		return nil, err
	}
	c := *spec
	c.Default()
	return &c, nil
}
