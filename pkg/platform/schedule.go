package platform

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Builder is a Section with work that changes nothing in the cluster (a download, a build) and
// so may start before the sections it needs have applied; its Apply uses what Build made.
type Builder interface {
	Section
	// Build runs once, when the run starts, beside the other sections. Its error is the
	// section's. ctx is cancelled when the section will not apply (a section it needs failed).
	Build(ctx context.Context, env *Env) error
}

// schedule runs sections as their needs allow: each in its own goroutine, started when every
// section it needs (of the ones in the run) has finished, skipped when one of them did not succeed.
type schedule struct {
	sections []Section
	done     map[string]chan struct{}
	// verb starts the progress lines ("apply", "delete"); after says how a section relates to
	// the ones it waits for, in a skip's reason ("needs", "comes after").
	verb, after string
	// changed is the result of a section that changed something (Changed, Deleted).
	changed string

	mu     sync.Mutex
	failed map[string]string // section → "failed" or "was skipped"
}

func newSchedule(sections []Section, verb, after, changed string) *schedule {
	sc := &schedule{sections: sections, done: map[string]chan struct{}{}, failed: map[string]string{}, verb: verb, after: after, changed: changed}
	for _, s := range sections {
		sc.done[s.Name()] = make(chan struct{})
	}
	return sc
}

// run applies every section and returns their outcomes in the sections' order, once all ended.
func (sc *schedule) run(ctx context.Context, env *Env) []*Outcome {
	outcomes := make([]*Outcome, len(sc.sections))
	var wg sync.WaitGroup
	for i, s := range sc.sections {
		outcomes[i] = &Outcome{Section: s.Name()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(sc.done[s.Name()])
			sc.runOne(ctx, env, s, outcomes[i])
		}()
	}
	wg.Wait()
	return outcomes
}

func (sc *schedule) runOne(ctx context.Context, env *Env, s Section, o *Outcome) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var build chan error
	if b, ok := s.(Builder); ok {
		build = make(chan error, 1)
		go func() { build <- b.Build(bctx, env) }()
	}
	if waits := sc.pending(s); len(waits) > 0 {
		meanwhile := ""
		if build != nil {
			meanwhile = " (building meanwhile)"
		}
		env.Progress.Logf("%s: %s waits for %s%s", sc.verb, s.Name(), strings.Join(waits, ", "), meanwhile)
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
		sc.setFailed(s.Name(), "was skipped")
		env.Progress.Logf("%s: %s skipped: %s", sc.verb, s.Name(), o.Reason)
		return
	}
	env.Progress.Logf("%s: %s started", sc.verb, s.Name())
	start := time.Now()
	var rep *output.Report
	var err error
	if build != nil {
		err = <-build
	}
	if err == nil {
		rep, err = s.Apply(ctx, env)
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
	switch {
	case err != nil:
		o.Result, o.Reason = Failed, err.Error()
		sc.setFailed(s.Name(), "failed")
	case o.Changed > 0:
		o.Result = sc.changed
	default:
		o.Result = Unchanged
	}
	env.Progress.Logf("%s: %s %s (%s changed, %s)", sc.verb, s.Name(), o.Result, output.CountOf(o.Changed, o.Total, "object"), o.Duration.Round(100*time.Millisecond))
}

// pending names the sections s needs that are in this run.
func (sc *schedule) pending(s Section) []string {
	var out []string
	for _, n := range s.Needs() {
		if _, ok := sc.done[n]; ok {
			out = append(out, n)
		}
	}
	return out
}

// blocking returns the first section s needs that failed or was skipped, and which of the two.
func (sc *schedule) blocking(s Section) (name, why string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, n := range s.Needs() {
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
