package kube

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// deleteMembers deletes doomed group by group (same order in parallel, bounded), each with a
// UID precondition so an object recreated meanwhile under the same name survives.
func (a *Applier) deleteMembers(ctx context.Context, doomed []prunable, as deletion) ([]output.Result, error) {
	results := make([]output.Result, len(doomed))
	errs := make([]error, len(doomed))
	for start := 0; start < len(doomed); {
		end := start
		for end < len(doomed) && doomed[end].order == doomed[start].order {
			end++
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, a.Parallelism)
		for i := start; i < end && ctx.Err() == nil; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				results[i], errs[i] = a.deleteMember(ctx, doomed[i], as)
			}(i)
		}
		wg.Wait()
		if ctx.Err() != nil {
			// Ctrl-C or the deadline: one line, not a "context canceled" per member left.
			done := slices.DeleteFunc(slices.Clone(results[:end]), func(r output.Result) bool { return r.Action == "" })
			return done, fmt.Errorf("%s%s interrupted with %d of %d deleted (what was deleted stays deleted; re-run to continue): %w",
				a.prefix(), as.verb, len(done), len(doomed), context.Cause(ctx))
		}
		if failed := slices.DeleteFunc(slices.Clone(errs[start:end]), func(e error) bool { return e == nil }); len(failed) > 0 {
			more := ""
			if len(failed) > maxListedFailures {
				more = fmt.Sprintf("\n... and %d more", len(failed)-maxListedFailures)
				failed = failed[:maxListedFailures]
			}
			return slices.DeleteFunc(results[:end], func(r output.Result) bool { return r.Action == "" }), fmt.Errorf("%s%s: %w%s", a.prefix(), as.verb, errors.Join(failed...), more)
		}
		start = end
	}
	return results, nil
}

// deletion says what a deletion is: the result's action and detail, the error's verb.
type deletion struct {
	action, detail, verb string
	// quiet logs no line per object (an uninstall's table lists them all); done, when set, is
	// called after each object, for progress.
	quiet bool
	done  func()
}

var prunedAs = deletion{action: Pruned, detail: "no longer in the desired set", verb: "prune"}

func (a *Applier) deleteMember(ctx context.Context, p prunable, as deletion) (output.Result, error) {
	res := output.Result{Kind: p.kind, Namespace: p.namespace, Name: p.name, Action: as.action, Detail: as.detail}
	if a.DryRun.Active() && a.Diff != nil {
		// A diff (--diff, diff -f) shows what would go as a removed file, as kubectl diff --prune does.
		if live, err := a.resource(p.gvr, p.namespace).Get(ctx, p.name, metav1.GetOptions{}); err == nil {
			a.Diff.Record(live, nil)
		}
	}
	if a.DryRun == core.DryRunClient {
		res.DryRun = a.DryRun
		return res, nil
	}
	opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.uid}}
	if a.DryRun == core.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
		res.DryRun = a.DryRun
	}
	err := Retry(ctx, func(ctx context.Context) error {
		return a.Metadata.Resource(p.gvr).Namespace(p.namespace).Delete(ctx, p.name, opts)
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return output.Result{}, nil // gone already, or recreated by someone else: not ours to delete
	}
	if err != nil {
		return output.Result{}, fmt.Errorf("delete %s: %w", p.ref, err)
	}
	if as.done != nil {
		as.done()
	}
	if !as.quiet {
		dry := ""
		if a.DryRun.Active() {
			dry = ", " + string(a.DryRun) + " dry run"
		}
		a.Progress.Logf("%s%s %s (%s%s)", a.prefix(), p.ref, as.action, as.detail, dry)
	}
	return res, nil
}

// dryRunSuffix is " (server dry run)" for a progress line of a dry run, as kubectl says it.
func dryRunSuffix(d core.DryRunStrategy) string {
	if !d.Active() {
		return ""
	}
	return " (" + string(d) + " dry run)"
}
