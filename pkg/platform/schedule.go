package platform

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// job is one section's work in a run: do (its apply or uninstall) once the jobs it needs have
// succeeded; build, when set, at once beside them (its error is the section's; its ctx is
// cancelled when the section will not run).
type job struct {
	name  string
	needs []string
	build func(ctx context.Context) error
	do    func(ctx context.Context) (*output.Report, error)
}

// schedule runs sections as their needs allow: each in its own goroutine, started when every
// section it needs (of the ones in the run) has finished, skipped when one of them did not succeed.
type schedule struct {
	jobs []job
	done map[string]chan struct{}
	// verb starts the progress lines ("apply", "delete"); after says how a section relates to
	// the ones it waits for, in a skip's reason ("needs", "comes after").
	verb, after string
	// changed is the result of a section that changed something (Changed, Deleted).
	changed string
	// dryRun is the run's dry-run mode ("" for none, else "server" or "client"), said on the
	// line that ends each section.
	dryRun string

	mu     sync.Mutex
	failed map[string]string // section → "failed" or "was skipped"
}

func newSchedule(jobs []job, verb, after, changed string) *schedule {
	sc := &schedule{jobs: jobs, done: map[string]chan struct{}{}, failed: map[string]string{}, verb: verb, after: after, changed: changed}
	for _, j := range jobs {
		sc.done[j.name] = make(chan struct{})
	}
	return sc
}

// run runs every job and returns their outcomes in the jobs' order, once all ended.
func (sc *schedule) run(ctx context.Context, progress *output.Progress) []*Outcome {
	outcomes := make([]*Outcome, len(sc.jobs))
	var wg sync.WaitGroup
	for i, j := range sc.jobs {
		outcomes[i] = &Outcome{Section: j.name}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(sc.done[j.name])
			sc.runOne(ctx, progress, j, outcomes[i])
		}()
	}
	wg.Wait()
	return outcomes
}

func (sc *schedule) runOne(ctx context.Context, progress *output.Progress, s job, o *Outcome) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var build chan error
	if s.build != nil {
		build = make(chan error, 1)
		go func() { build <- s.build(bctx) }()
	}
	if waits := sc.pending(s); len(waits) > 0 {
		meanwhile := ""
		if build != nil {
			meanwhile = " (building meanwhile)"
		}
		progress.Logf("%s: %s waits for %s%s", sc.verb, s.name, strings.Join(waits, ", "), meanwhile)
		for _, n := range waits {
			<-sc.done[n]
		}
	}
	if blocker, why := sc.blocking(s); blocker != "" {
		cancel()
		if build != nil {
			<-build
		}
		o.Result, o.Reason = Skipped, fmt.Sprintf("%s %s, which %s", sc.after, blocker, why)
		sc.setFailed(s.name, "was skipped")
		progress.Logf("%s: %s skipped: %s", sc.verb, s.name, o.Reason)
		return
	}
	progress.Logf("%s: %s started", sc.verb, s.name)
	start := time.Now()
	var rep *output.Report
	var err error
	if build != nil {
		err = <-build
	}
	if err == nil {
		rep, err = s.do(ctx)
	}
	o.Duration = time.Since(start)
	o.Seconds = o.Duration.Round(10 * time.Millisecond).Seconds()
	o.Report = rep
	if rep != nil {
		o.Total = len(rep.Results)
		for _, r := range rep.Results {
			if output.IsChange(r.Action) {
				o.Changed++
			}
		}
	}
	var ae *kube.ApplyError
	if errors.As(err, &ae) && ae.Total > o.Total {
		o.Total = ae.Total // of every object the section had to apply, not of those it got to
	}
	switch {
	case err != nil:
		o.Result, o.Reason, o.usage = Failed, err.Error(), core.IsUsageError(err)
		sc.setFailed(s.name, "failed")
	case o.Changed > 0:
		o.Result = sc.changed
	default:
		o.Result = Unchanged
	}
	dry := ""
	if sc.dryRun != "" {
		dry = ", " + sc.dryRun + " dry run"
	}
	progress.Logf("%s: %s %s (%s changed, %s%s)", sc.verb, s.name, o.Result, output.CountOf(o.Changed, o.Total, "object"), o.Duration.Round(100*time.Millisecond), dry)
}

// pending names the sections s needs that are in this run.
func (sc *schedule) pending(s job) []string {
	var out []string
	for _, n := range s.needs {
		if _, ok := sc.done[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// blocking returns the first section s needs that failed or was skipped, and which of the two.
func (sc *schedule) blocking(s job) (name, why string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, n := range s.needs {
		if why, ok := sc.failed[n]; ok {
			return n, why
		}
	}
	return "", ""
}

func (sc *schedule) setFailed(name, why string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.failed[name] = why
}
