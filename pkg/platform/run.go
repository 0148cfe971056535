package platform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Order is the order sections run in: each after the ones it needs; gpu needs none.
var Order = []string{"storage", "lb", "kubeflow", "tls", "profiles", "gpu"}

// Env is what every section runs with: the clients of the root's one RESTClientGetter and the
// command's --dry-run, --wait and --timeout (the timeout bounds each section).
type Env struct {
	Clients  *kube.Clients
	Helm     *helm.Client
	Progress *output.Progress
	DryRun   core.DryRunStrategy
	Wait     bool
	Timeout  time.Duration
	// Server is the cluster's Kubernetes version, read once.
	Server versions.Server
	// ForceApply sends every object of the engine's sets, skipping nothing the apply record
	// says is unchanged (--force-apply).
	ForceApply bool
}

// Section is one block of the platform file run by its component: the adapter fills the
// component's typed spec from the block, exactly as the section's command fills it from flags,
// and calls the same component function. Plugging in a section is one adapter file.
type Section interface {
	// Name is the block's name in the file, in --only/--skip and in the summary.
	Name() string
	// Needs names the sections that must not have failed before this one runs.
	Needs() []string
	// Prepare checks, before anything changes anywhere, what needs the cluster but changes
	// nothing (e.g. that a version given fits the server). A usage error (exit 2) stops the
	// whole run before any section applies.
	Prepare(ctx context.Context, env *Env) error
	// Apply converges the section and reports every object; the report holds what was done
	// also on error.
	Apply(ctx context.Context, env *Env) (*output.Report, error)
}

// Results in the summary.
const (
	Unchanged = "unchanged"
	Changed   = "changed"
	Failed    = "failed"
	Skipped   = "skipped"
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
}

// Summary is the result of one apply -f run.
type Summary struct {
	Platform string    `json:"platform"`
	DryRun   string    `json:"dryRun,omitempty"`
	Sections []Outcome `json:"sections"`
}

// Select returns the sections of pl to run, in Order: the ones the file declares, limited to
// only (when given) and without skip. A name that is no section, or an --only section the file
// does not declare, is a usage error.
func Select(pl *Platform, only, skip []string) ([]Section, error) {
	declared := pl.Sections()
	names := map[string]bool{}
	for _, s := range declared {
		names[s.Name()] = true
	}
	for flag, list := range map[string][]string{"--only": only, "--skip": skip} {
		for _, n := range list {
			if !slices.Contains(Order, n) {
				return nil, core.UsageErrorf("%s %q: not a section; sections are %s", flag, n, strings.Join(Order, ", "))
			}
			if flag == "--only" && !names[n] {
				return nil, core.UsageErrorf("--only %s: %s declares no %s block", n, pl.Path, n)
			}
		}
	}
	var out []Section
	for _, s := range declared {
		if (len(only) == 0 || slices.Contains(only, s.Name())) && !slices.Contains(skip, s.Name()) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, core.UsageErrorf("nothing to do: --only/--skip leave no section of %s", pl.Path)
	}
	return out, nil
}

// Run prepares every section (all usage errors together, exit 2, before any change), then
// applies them as their needs allow: a section starts as soon as every section it needs has
// succeeded, so independent sections (gpu beside the rest, storage beside lb) run at the same
// time, and a Builder's build runs while the sections it waits for apply. A failed section
// stops the sections that need it; the others go on. The error is nil only when every section
// ran and succeeded.
func Run(ctx context.Context, pl *Platform, sections []Section, env *Env) (*Summary, error) {
	sum := &Summary{Platform: pl.Metadata.Name, DryRun: env.DryRun.Label()}
	var usage []string
	for _, s := range sections {
		err := s.Prepare(ctx, env)
		switch {
		case core.IsUsageError(err):
			usage = append(usage, fmt.Sprintf("%s: %v", s.Name(), unwrapUsage(err)))
		case err != nil:
			return sum, core.Wrapf(err, "%s", s.Name())
		}
	}
	if len(usage) > 0 {
		return sum, core.UsageErrorf("%s: nothing was changed:\n  %s", pl.Path, strings.Join(usage, "\n  "))
	}
	errs := sum.add(newSchedule(sections, "apply", "needs", Changed).run(ctx, env))
	if len(errs) > 0 {
		return sum, fmt.Errorf("%s did not apply:\n  %s", output.Count(len(errs), "section"), strings.Join(errs, "\n  "))
	}
	return sum, nil
}

// add appends the outcomes to the summary and returns one line per failed section.
func (s *Summary) add(outcomes []*Outcome) []string {
	var failed []string
	for _, o := range outcomes {
		s.Sections = append(s.Sections, *o)
		if o.Result == Failed {
			failed = append(failed, fmt.Sprintf("%s: %s", o.Section, o.Reason))
		}
	}
	return failed
}

func unwrapUsage(err error) error {
	var e *core.ExitError
	if errors.As(err, &e) && e.Err != nil {
		return e.Err
	}
	return err
}
