package kubeflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// upgrade is what Prepare found: the release installed, and the hops to the target.
type upgrade struct {
	installed Installation
	target    string
	hops      []Hop
}

// planUpgrade finds the installed release and the hops to the spec's target (the version given,
// else the one the version matrix picks for s): a usage error when there is no path. A target
// the matrix cannot pick is left to Build to report.
func planUpgrade(ctx context.Context, c *kube.Clients, s versions.Server, spec *Spec) (*upgrade, error) {
	target := spec.Version
	if target == "" {
		pick, err := ChooseVersion(s, "")
		if err != nil {
			return nil, nil
		}
		target = pick.Version
	}
	in, err := Installed(ctx, c)
	if err != nil {
		return nil, core.Wrapf(err, "kubeflow")
	}
	up := &upgrade{installed: in, target: canonical(target)}
	up.hops, err = UpgradePath(s, in, target)
	return up, err
}

// converge applies final, hop by hop when an older release is installed: each intermediate
// hop builds its release, runs its migrations, converges (pruning what the release dropped,
// keeping what holds data), waits and checks it like a run of that release, and records it; the
// last hop does the same with final. A hop that fails stops the upgrade at the last finished
// one, said in one line (a re-run goes on from there). A dry run goes as far as the first hop.
func (k kubeflowSection) converge(ctx context.Context, r *section.Run, spec *Spec, up *upgrade, final *Built) (*output.Report, error) {
	var hops []Hop
	if up != nil && up.target == final.Profile.Version {
		hops = up.hops
	}
	if len(hops) == 0 {
		rep, err := k.hop(ctx, r, spec, Hop{}, final)
		if err == nil && (up == nil || !up.installed.recorded(final.Profile.Version)) {
			err = recordRelease(ctx, r.Clients, r.DryRun, final.Profile.Version)
		}
		return rep, err
	}
	rep := &output.Report{}
	r.Progress.Logf("kubeflow: upgrading %s: %s (%s)", pathString(hops), output.Count(len(hops), "hop"), up.installed.How)
	for i, h := range hops {
		label := hopLabel(i, len(hops), h)
		r.Progress.Logf("kubeflow: %s", label)
		b := final
		if i < len(hops)-1 {
			p, err := ProfileFor(h.To)
			if err == nil {
				b, err = buildFor(ctx, r.Clients, r.Progress, p, hopSpec(spec), true)
			}
			if err != nil {
				return rep, stopped(i, label, h, err)
			}
		}
		hrep, err := k.hop(ctx, r, spec, h, b)
		mergeHop(rep, hrep, i, len(hops), label)
		if err == nil && r.Wait && !r.DryRun.Active() && i < len(hops)-1 {
			err = section.PostConditions(ctx, Name, r, k.PostConditions(spec))
		}
		if err == nil {
			err = recordRelease(ctx, r.Clients, r.DryRun, h.To)
		}
		if err != nil {
			return rep, stopped(i, label, h, err)
		}
		if r.DryRun.Active() {
			if i < len(hops)-1 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("dry run: only %s was tried, the next hops start from its result; `kubectl flexigrobots kubeflow --plan` lists what each does", label))
			}
			break
		}
		rep.Notes = append(rep.Notes, label+" finished")
	}
	return rep, nil
}

// hopSpec is spec for a release an upgrade passes through: the same edits, its manifests from
// the mirror (or GitHub), never the --manifests given for the target.
func hopSpec(spec *Spec) *Spec {
	hs := *spec
	hs.Manifests = ""
	return &hs
}

// hop runs h's migrations that go before the apply, converges b, then runs those that go after.
// The artifact copy runs after every apply of a release with SeaweedFS, hop or not, so that a
// run goes on with a copy an earlier one left running.
func (k kubeflowSection) hop(ctx context.Context, r *section.Run, spec *Spec, h Hop, b *Built) (*output.Report, error) {
	rep := &output.Report{}
	var before, after []Migration
	for _, m := range h.Migrations {
		if m.AfterApply {
			after = append(after, m)
		} else {
			before = append(before, m)
		}
	}
	if len(after) == 0 && b.Profile.ObjectStore.Name == seaweedStore.Name {
		after = append(after, copyArtifacts)
	}
	b.Images = spec.Registry
	if err := migrate(ctx, r, b, rep, before); err != nil {
		return rep, err
	}
	crep, err := installer(r, spec).Converge(ctx, b, spec.github())
	rep.Add(crep.Results...)
	rep.Notes = append(rep.Notes, crep.Notes...)
	if err == nil {
		err = migrate(ctx, r, b, rep, after)
	}
	if err == nil {
		rep.Notes = append(rep.Notes, h.Notes...)
	}
	return rep, err
}

// migrate runs ms in order into rep, noting each that did something.
func migrate(ctx context.Context, r *section.Run, b *Built, rep *output.Report, ms []Migration) error {
	for _, m := range ms {
		res, err := m.Run(ctx, r, b)
		rep.Add(res...)
		if err != nil {
			return fmt.Errorf("migration %q: %w", m.Name, err)
		}
		if len(res) > 0 {
			rep.Notes = append(rep.Notes, "migrated: "+m.Name+" ("+m.Source+")")
		}
	}
	return nil
}

// mergeHop adds hop i's report to rep: the last hop's as it is, an earlier hop's objects with
// the hop named in their detail and only its migration and upstream notes (the edits and the
// dashboard are the last hop's to say).
func mergeHop(rep, hrep *output.Report, i, n int, label string) {
	if i == n-1 {
		rep.Add(hrep.Results...)
		rep.Notes = append(rep.Notes, hrep.Notes...)
		return
	}
	for _, x := range hrep.Results {
		x.Detail = strings.TrimSuffix(label+": "+x.Detail, ": ")
		rep.Add(x)
	}
	for _, note := range hrep.Notes {
		if !strings.HasPrefix(note, "edit ") && !strings.Contains(note, "dashboard") {
			rep.Notes = append(rep.Notes, label+": "+note)
		}
	}
}

// stopped is the one line an upgrade stopped in hop i says: where the cluster is, and that a
// re-run continues. After a finished hop a refusal no longer means "nothing changed": exit 1.
func stopped(i int, label string, h Hop, err error) error {
	where := fmt.Sprintf("the cluster is at %s, the last finished hop", h.From)
	if i == 0 {
		where = fmt.Sprintf("the cluster is at %s, where it started", h.From)
	} else {
		err = core.Unexit(err)
	}
	return core.Wrapf(core.TrimPrefix(err, "kubeflow: "), "kubeflow: the upgrade stopped in %s (%s; run the command again to continue from there)", label, where)
}
