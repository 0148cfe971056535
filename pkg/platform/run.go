package platform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Results in the summary.
const (
	Unchanged = "unchanged"
	Changed   = "changed"
	Failed    = "failed"
	Skipped   = "skipped"
	// Deleted is the result of a section whose uninstall deleted something.
	Deleted = "deleted"
)

// Outcome is one section's line of the summary.
type Outcome struct {
	Section string `json:"section"`
	Result  string `json:"result"`
	// Changed counts the objects and releases created, configured, installed, upgraded or deleted.
	Changed  int            `json:"changed"`
	Total    int            `json:"total"`
	Duration time.Duration  `json:"-"`
	Seconds  float64        `json:"seconds"`
	Reason   string         `json:"reason,omitempty"`
	Report   *output.Report `json:"report,omitempty"`
	// usage: the section failed on input it refused before changing anything (exit 2).
	usage bool
}

// Summary is the result of one apply -f or delete -f run.
type Summary struct {
	Platform string    `json:"platform"`
	DryRun   string    `json:"dryRun,omitempty"`
	Sections []Outcome `json:"sections"`
}

// Select returns the blocks of pl to run, in Order: the ones the file declares, limited to
// only (when given) and without skip. A name that is no section, or an --only section the file
// does not declare, is a usage error.
func Select(pl *Platform, only, skip []string) ([]Block, error) {
	order := Order()
	for flag, list := range map[string][]string{"--only": only, "--skip": skip} {
		for _, n := range list {
			if !slices.Contains(order, n) {
				return nil, core.UsageErrorf("%s %q: not a section; sections are %s", flag, n, strings.Join(order, ", "))
			}
			if _, ok := pl.Block(n); flag == "--only" && !ok {
				return nil, core.UsageErrorf("--only %s: %s declares no %s block", n, pl.Path, n)
			}
		}
	}
	var out []Block
	for _, b := range pl.Blocks {
		if (len(only) == 0 || slices.Contains(only, b.Name())) && !slices.Contains(skip, b.Name()) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, core.UsageErrorf("nothing to do: --only/--skip leave no section of %s", pl.Path)
	}
	return out, nil
}

// Run prepares every block (all usage errors together, exit 2, before any change), then
// applies them as their needs allow: a section starts as soon as every section it needs has
// succeeded, so independent sections (gpu beside the rest, storage beside lb) run at the same
// time, and a Builder's build runs while the sections it waits for apply. Each applies through
// section.Apply (its own --timeout budget, its post-conditions). A failed section stops the
// sections that need it; the others go on. The error is nil only when every section succeeded.
func Run(ctx context.Context, pl *Platform, blocks []Block, r *section.Run) (*Summary, error) {
	sum := &Summary{Platform: pl.Metadata.Name, DryRun: r.DryRun.Label()}
	var usage []string
	for _, b := range blocks {
		err := b.Section.Prepare(ctx, r, b.Spec)
		switch {
		case core.IsUsageError(err):
			// A field named {field} in the message is the block's: spec.<section>.<field>.
			msg := core.Render(core.Unexit(err).Error(), func(f string) string { return core.JoinField("spec."+b.Name(), f) })
			usage = append(usage, fmt.Sprintf("%s: %s", b.Name(), msg))
		case err != nil:
			return sum, core.Wrapf(err, "%s", b.Name())
		}
	}
	if len(usage) > 0 {
		return sum, core.UsageErrorf("%s: nothing was changed:\n  %s", pl.Path, strings.Join(usage, "\n  "))
	}
	jobs := make([]job, len(blocks))
	for i, b := range blocks {
		jobs[i] = job{name: b.Name(), needs: b.Section.Needs(), do: func(ctx context.Context) (*output.Report, error) {
			return section.Apply(ctx, b.Section, r, b.Spec)
		}}
		if bu, ok := b.Section.(section.Builder); ok {
			jobs[i].build = func(ctx context.Context) error { return bu.Build(ctx, r, b.Spec) }
		}
	}
	sc := newSchedule(jobs, "apply", "needs", Changed)
	sc.dryRun = r.DryRun.Label()
	errs := sum.add(sc.run(ctx, r.Progress))
	if len(errs) > 0 {
		err := fmt.Errorf("%s did not apply (%s):\n  %s", output.Count(len(errs), "section"), strings.Join(sum.failed(), ", "), strings.Join(errs, "\n  "))
		if sum.onlyUsage() {
			// Each failed section refused its input before it changed anything (e.g. an object
			// made by hand holding other values) and no other section changed anything: exit 2,
			// as the section's own command does, keeping 2's promise that nothing changed.
			return sum, &core.ExitError{Code: core.ExitUsage, Err: err}
		}
		return sum, err
	}
	return sum, nil
}

// Delete uninstalls the blocks in the reverse of their order: a section starts once every
// section of the run that needs it is deleted (profiles and tls, then kubeflow, then lb and
// storage; gpu at once, beside them), and is skipped when one of those failed: what it serves
// must not lose it while still there. The error is nil only when every section was deleted.
func Delete(ctx context.Context, pl *Platform, blocks []Block, r *section.Run, o section.UninstallOptions) (*Summary, error) {
	sum := &Summary{Platform: pl.Metadata.Name, DryRun: r.DryRun.Label()}
	in := map[string]bool{}
	for _, b := range blocks {
		in[b.Name()] = true
	}
	jobs := make([]job, 0, len(blocks))
	for i := len(blocks) - 1; i >= 0; i-- {
		b := blocks[i]
		var after []string
		for _, d := range blocks {
			if slices.Contains(d.Section.Needs(), b.Name()) && in[d.Name()] {
				after = append(after, d.Name())
			}
		}
		jobs = append(jobs, job{name: b.Name(), needs: after, do: func(ctx context.Context) (*output.Report, error) {
			return section.Uninstall(ctx, b.Section, r, b.Spec, o)
		}})
	}
	sc := newSchedule(jobs, "delete", "comes after", Deleted)
	sc.dryRun = r.DryRun.Label()
	errs := sum.add(sc.run(ctx, r.Progress))
	if len(errs) > 0 {
		return sum, fmt.Errorf("%s not deleted:\n  %s", output.Count(len(errs), "section"), strings.Join(errs, "\n  "))
	}
	return sum, nil
}

// onlyUsage tells whether every failed section failed on input it refused (the sections that
// need one were skipped for it) and no section changed anything.
func (s *Summary) onlyUsage() bool {
	for _, o := range s.Sections {
		if o.Result == Failed && !o.usage || o.Changed > 0 {
			return false
		}
	}
	return true
}

// failed names the sections that failed, in the summary's order.
func (s *Summary) failed() []string {
	var names []string
	for _, o := range s.Sections {
		if o.Result == Failed {
			names = append(names, o.Section)
		}
	}
	return names
}

// add appends the outcomes to the summary and returns one line per failed section.
func (s *Summary) add(outcomes []*Outcome) []string {
	var failed []string
	for _, o := range outcomes {
		s.Sections = append(s.Sections, *o)
		if o.Result == Failed {
			failed = append(failed, core.Prefixed(o.Section, o.Reason))
		}
	}
	return failed
}
