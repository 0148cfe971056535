package profile

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Section is the profiles section (see pkg/section): `profile poddefault`, `profile uninstall`
// and the platform file's profiles block all run through it.
var Section section.Section = profilesSection{}

// profilesSection implements section.Section; it has no state of its own.
type profilesSection struct{}

// Name is "profiles".
func (profilesSection) Name() string { return Name }

// Needs: PodDefaults are Kubeflow's (its admission webhook and CRD).
func (profilesSection) Needs() []string { return []string{"kubeflow"} }

// NewSpec is an empty *Spec.
func (profilesSection) NewSpec() section.Spec { return &Spec{} }

// Prepare has nothing to check without changing the cluster that Validate has not: whether the
// names are profile namespaces is known only once Kubeflow is installed (Apply says so, exit
// code 2, before it changes anything).
func (profilesSection) Prepare(context.Context, *section.Run, section.Spec) error { return nil }

// Apply converges s: the PodDefault in each target namespace (or, with Remove, out of it). With
// r.Wait (and no dry run), --all-profiles gives Profiles without a namespace up to
// NamespaceGrace of the budget to get one.
func (profilesSection) Apply(ctx context.Context, r *section.Run, s section.Spec) (*output.Report, error) {
	spec, err := specOf(s)
	if err != nil {
		return &output.Report{}, err
	}
	in := &Installer{Clients: r.Clients, Progress: r.Progress, DryRun: r.DryRun, Wait: r.Wait && !r.DryRun.Active()}
	return in.Converge(ctx, spec)
}

// Uninstall deletes the PodDefaults this plugin made from every namespace (Installer.Uninstall);
// s and o do not matter.
func (profilesSection) Uninstall(ctx context.Context, r *section.Run, _ section.Spec, _ section.UninstallOptions) (*output.Report, error) {
	in := &Installer{Clients: r.Clients, Progress: r.Progress, DryRun: r.DryRun}
	return in.Uninstall(ctx)
}

// Checks are the checks of `verify --section profiles`.
func (profilesSection) Checks() []checks.Check { return Checks() }

// PostConditions are none. No check of Checks() holds after every successful apply that waited:
// PROFILES-001 fails while a Profile has no namespace yet, which Apply skips with a note after
// NamespaceGrace; PROFILES-002 covers every profile namespace (not only those named), fails on
// a PodDefault someone else made that differs (Apply leaves it, with a warning) and on a Profile
// whose namespace appeared after Apply read them; PROFILES-003 is a warning Apply already gives
// for each target without the label.
func (profilesSection) PostConditions(section.Spec) []checks.Check { return nil }

// Access is the RBAC of `profile poddefault` and `profile uninstall`.
func (profilesSection) Access() access.Section { return Access }

// specOf is s as the section's *Spec.
func specOf(s section.Spec) (*Spec, error) { return section.SpecAs[Spec](Name, s) }
