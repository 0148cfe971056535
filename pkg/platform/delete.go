package platform

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Deleted is the summary result of a section whose uninstall deleted something.
const Deleted = "deleted"

// DeleteOptions are what `delete -f` asks of every section's uninstall.
type DeleteOptions struct {
	// DeleteData deletes the claims Kubeflow's stores hold (kept otherwise, with their namespace
	// and the storage release that serves them).
	DeleteData bool
	// Force uninstalls storage while claims of its class are bound (kept otherwise).
	Force bool
}

// Uninstaller is a Section that `delete -f` can take down, through the same component function
// as the section's `uninstall` command.
type Uninstaller interface {
	Uninstall(ctx context.Context, env *Env, o DeleteOptions) (*output.Report, error)
}

// removal is a section scheduled for deletion: it waits for the sections of the run that need it
// (they are deleted first) instead of the ones it needs.
type removal struct {
	Section
	after []string
	opts  DeleteOptions
}

func (r *removal) Needs() []string { return r.after }

func (r *removal) Apply(ctx context.Context, env *Env) (*output.Report, error) {
	u, ok := r.Section.(Uninstaller)
	if !ok {
		return &output.Report{}, fmt.Errorf("%s cannot be uninstalled", r.Name())
	}
	return u.Uninstall(ctx, env, r.opts)
}

// Delete uninstalls the sections in the reverse of their order: a section starts once every
// section of the run that needs it is deleted (profiles and tls, then kubeflow, then lb and
// storage; gpu at once, beside them), and is skipped when one of those failed: what it serves
// must not lose it while still there. The error is nil only when every section was deleted.
func Delete(ctx context.Context, pl *Platform, sections []Section, env *Env, o DeleteOptions) (*Summary, error) {
	sum := &Summary{Platform: pl.Metadata.Name, DryRun: env.DryRun.Label()}
	in := map[string]bool{}
	for _, s := range sections {
		in[s.Name()] = true
	}
	removals := make([]Section, 0, len(sections))
	for i := len(sections) - 1; i >= 0; i-- {
		s := sections[i]
		var after []string
		for _, d := range sections {
			if slices.Contains(d.Needs(), s.Name()) && in[d.Name()] {
				after = append(after, d.Name())
			}
		}
		removals = append(removals, &removal{Section: s, after: after, opts: o})
	}
	errs := sum.add(newSchedule(removals, "delete", "comes after", Deleted).run(ctx, env))
	if len(errs) > 0 {
		return sum, fmt.Errorf("%s not deleted:\n  %s", output.Count(len(errs), "section"), strings.Join(errs, "\n  "))
	}
	return sum, nil
}
