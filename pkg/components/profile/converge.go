package profile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Converge resolves the spec's namespaces (a bad one is exit 2, nothing changed), then applies
// or removes the PodDefault in each and reports one result per namespace. Call it through
// section.Apply(ctx, Section, ...), which bounds ctx by the run's budget.
func (in *Installer) Converge(ctx context.Context, s *Spec) (*output.Report, error) {
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
		if in.Wait && !s.Remove && len(pending) > 0 {
			targets, pending = in.awaitNamespaces(ctx, targets, pending)
		}
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

// NamespaceGrace is how long Converge with Wait gives Kubeflow's profile controller to create
// the namespaces of Profiles that have none yet (it takes seconds when it runs).
const NamespaceGrace = 30 * time.Second

// awaitNamespaces re-reads the inventory until the pending Profiles have namespaces, at most
// NamespaceGrace (or what is left of the budget); it returns the targets and what is still
// pending then.
func (in *Installer) awaitNamespaces(ctx context.Context, targets []Target, pending []string) ([]Target, []string) {
	grace := core.Budget(ctx, NamespaceGrace)
	in.Progress.Logf("profiles: waiting up to %s for the profile controller to create the namespace of Profile %s", grace.Round(time.Second), strings.Join(pending, ", "))
	_ = wait.PollUntilContextTimeout(ctx, time.Second, grace, false, func(ctx context.Context) (bool, error) {
		inv, err := LoadInventory(ctx, in.Clients)
		if err != nil {
			return false, nil
		}
		targets, pending = inv.AllProfiles()
		return len(pending) == 0, nil
	})
	return targets, pending
}
