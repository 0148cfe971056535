package section

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Apply runs sec.Apply within r.Timeout (the one budget of the section), then the section's
// post-conditions when the run waited and either changed the cluster or finds them pending: an
// error result fails the run with exit code 3 (as verify), a warning is printed. They are
// pending (a note on the PlatformRecord) from a run that changed the cluster without passing
// them (it did not wait, failed, or they failed) until a run passes them: a no-op re-run after a
// passed apply runs none, and a script that re-runs until exit 0 still gets 3 while they fail.
// Every entry point applies through it.
func Apply(ctx context.Context, sec Section, r *Run, s Spec) (*output.Report, error) {
	ctx, cancel := core.WithBudget(ctx, r.Timeout)
	defer cancel()
	rep, err := sec.Apply(ctx, r, s)
	if rep == nil {
		rep = &output.Report{}
	}
	if r.DryRun.Active() || r.Clients == nil {
		return rep, err
	}
	name := sec.Name()
	var record *corev1.ConfigMap // as recordBlock read it: the pending notes without a second GET
	if err == nil {
		var rerr error
		if record, rerr = recordBlock(ctx, r, name, s); rerr != nil && r.Progress != nil {
			r.Progress.Logf("warning: %s: applied, but its block was not recorded for `export --platform` (ConfigMap %s/%s): %v", name, kube.RecordNamespace, PlatformRecord, rerr)
		}
	}
	cs := sec.PostConditions(s)
	if len(cs) == 0 {
		return rep, err
	}
	if err != nil || !r.Wait {
		if rep.Changed() {
			notePending(ctx, r, name, true)
		}
		return rep, err
	}
	if !rep.Changed() {
		pending, perr := pendingIn(record, name), error(nil)
		if record == nil {
			pending, perr = postConditionsPending(ctx, r, name)
		}
		if perr == nil && !pending {
			return rep, nil
		}
	}
	err = PostConditions(ctx, name, r, cs)
	notePending(ctx, r, name, err != nil)
	return rep, err
}

// notePending notes on the PlatformRecord whether section name's post-conditions are pending;
// a failure to note is a warning (the next run then runs them, or not, as the old note says).
// The note is written on a context of its own: a run stopped by Ctrl-C or its budget after a
// change still leaves them pending.
func notePending(ctx context.Context, r *Run, name string, pending bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := setPostConditionsPending(ctx, r, name, pending); err != nil && r.Progress != nil {
		r.Progress.Logf("warning: %s: could not note on ConfigMap %s/%s whether its post-conditions are pending: %v", name, kube.RecordNamespace, PlatformRecord, err)
	}
}

// Uninstall runs sec.Uninstall within r.Timeout.
func Uninstall(ctx context.Context, sec Section, r *Run, s Spec, o UninstallOptions) (*output.Report, error) {
	ctx, cancel := core.WithBudget(ctx, r.Timeout)
	defer cancel()
	rep, err := sec.Uninstall(ctx, r, s, o)
	if rep == nil {
		rep = &output.Report{}
	}
	// A section took down (something deleted) no longer runs what its block says; one that kept
	// itself (storage while claims are bound) or was already gone changes nothing.
	if err == nil && !r.DryRun.Active() && r.Clients != nil && rep.Changed() {
		notePending(ctx, r, sec.Name(), false) // nothing of it left to check
		if ferr := forgetBlock(ctx, r, sec.Name()); ferr != nil && r.Progress != nil {
			r.Progress.Logf("warning: %s: uninstalled, but its block is still in ConfigMap %s/%s: %v", sec.Name(), kube.RecordNamespace, PlatformRecord, ferr)
		}
	}
	return rep, err
}

// PostConditions runs cs over one snapshot: each error result is listed in the error (exit code
// 3), each warning printed on stderr.
func PostConditions(ctx context.Context, name string, r *Run, cs []checks.Check) error {
	if len(cs) == 0 {
		return nil
	}
	cl := r.Clients
	env := checks.Env{Client: cl.Client, Dynamic: cl.Dynamic, Discovery: cl.Discovery, Host: cl.Config.Host, ProbeTimeout: core.Budget(ctx, 30*time.Second)}
	var failed []string
	for _, res := range checks.Run(ctx, &checks.Collector{Env: env}, cs) {
		switch {
		case res.Severity >= checks.Error:
			failed = append(failed, fmt.Sprintf("%s %s: %s (fix: %s)", res.ID, res.Title, res.Message, res.Fix))
		case res.Severity == checks.Warn && r.Progress != nil:
			r.Progress.Logf("warning: %s %s: %s (%s)", res.ID, res.Title, res.Message, res.Fix)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &core.ExitError{Code: core.ExitFailed, Err: fmt.Errorf("%s: applied, but its post-conditions fail:\n  - %s", name, strings.Join(failed, "\n  - "))}
}
