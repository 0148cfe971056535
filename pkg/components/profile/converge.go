package profile

import (
	"context"
	"fmt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Spec is what one `profile poddefault` run (or the platform file's profiles block) asks for.
type Spec struct {
	// AllProfiles covers every namespace owned by a Profile; otherwise Namespaces.
	AllProfiles bool
	Namespaces  []string
	// Remove deletes the PodDefaults this command made instead of applying them.
	Remove bool
}

// Converge resolves the spec's namespaces (a bad one is exit 2, nothing changed), then applies
// or removes the PodDefault in each and reports one result per namespace.
func (in *Installer) Converge(ctx context.Context, s Spec) (*output.Report, error) {
	if err := CheckInstalled(in.Clients); err != nil {
		return &output.Report{}, err
	}
	inv, err := LoadInventory(ctx, in.Clients)
	if err != nil {
		return &output.Report{}, err
	}
	rep := &output.Report{}
	var targets []Target
	if s.AllProfiles {
		var pending []string
		targets, pending = inv.AllProfiles()
		for _, p := range pending {
			rep.Notes = append(rep.Notes, fmt.Sprintf("Profile %s: skipped, its namespace does not exist yet (the profile controller creates it; --watch covers it when it does)", p))
		}
		if len(targets) == 0 && len(pending) == 0 {
			rep.Notes = append(rep.Notes, "no Profiles yet: nothing to do (--watch covers them as users sign up)")
		}
	} else if targets, err = inv.Resolve(s.Namespaces); err != nil {
		return rep, err
	}
	var done *output.Report
	if s.Remove {
		done, err = in.Remove(ctx, targets)
	} else {
		done, err = in.Apply(ctx, targets, nil)
	}
	rep.Results = done.Results
	return rep, err
}
