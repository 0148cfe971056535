package kube_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestPruneInterruptedCompletesOnReRun: a prune of 399 members cut short, once by Ctrl-C (the
// run's context cancelled) and once by a kube-apiserver crash and restart, leaves the set
// consistent: the re-run prunes exactly what is left, and the run after it prunes nothing.
func TestPruneInterruptedCompletesOnReRun(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	all := configMaps("prune-cut", 400, "v1")
	keep := all[:2] // the Namespace and cm-000
	apply := func(ctx context.Context, objs []*unstructured.Unstructured) (*output.Report, error) {
		return (&kube.Applier{Clients: clientsFor(t, c), Section: "prunecut", ApplySet: true, Parallelism: 2}).Apply(ctx, objs)
	}
	count := func() int {
		list, err := c.Client.CoreV1().ConfigMaps("prune-cut").List(ctx, metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=" + kube.ApplySetID("prunecut")})
		if err != nil {
			return -1
		}
		return len(list.Items)
	}
	prunedIn := func(rep *output.Report) int {
		n := 0
		for _, r := range rep.Results {
			if r.Action == kube.Pruned {
				n++
			}
		}
		return n
	}
	// cut runs the prune of everything but keep, calls interrupt once some members are gone (but
	// most are not), and returns how many members were left when the run ended.
	cut := func(t *testing.T, interrupt func(cancel context.CancelFunc)) int {
		if _, err := apply(ctx, all); err != nil {
			t.Fatal(err)
		}
		rctx, rcancel := context.WithCancel(ctx)
		defer rcancel()
		errc := make(chan error, 1)
		go func() {
			_, err := apply(rctx, keep)
			errc <- err
		}()
		for n := count(); n < 0 || n > 360; n = count() {
			time.Sleep(10 * time.Millisecond)
		}
		interrupt(rcancel)
		err := <-errc
		// A DELETE the client sent before the cancel may still finish on the server after the
		// run returned: count once two looks 100 ms apart agree.
		left := count()
		for i := 0; i < 20; i++ {
			time.Sleep(100 * time.Millisecond)
			n := count()
			if n == left {
				break
			}
			left = n
		}
		t.Logf("the interrupted run ended with %d members left: %v", left, err)
		if err != nil && strings.Count(err.Error(), "\n") > 2 {
			t.Errorf("the interruption's error is %d lines, want one saying how far it got", strings.Count(err.Error(), "\n")+1)
		}
		return left
	}
	finish := func(t *testing.T, left int) {
		rep, err := apply(ctx, keep)
		if err != nil {
			t.Fatalf("re-run: %v", err)
		}
		if got := prunedIn(rep); got != left-1 {
			t.Errorf("re-run pruned %d, want the %d members left but cm-000", got, left-1)
		}
		if n := count(); n != 1 {
			t.Errorf("%d members after the re-run, want 1 (cm-000)", n)
		}
		rep, err = apply(ctx, keep)
		if err != nil || prunedIn(rep) != 0 {
			t.Fatalf("the run after: pruned %d (%v), want nothing", prunedIn(rep), err)
		}
	}

	t.Run("Ctrl-C", func(t *testing.T) {
		// The cancel lands while about a tenth of the members are gone; should the prune ever
		// outrun it, the cut is tried again rather than the case left unproved.
		left := 1
		for try := 0; try < 3 && left <= 1; try++ {
			left = cut(t, func(cancel context.CancelFunc) { cancel() })
		}
		if left <= 1 {
			t.Fatal("the prune finished before the interruption three times: nothing was interrupted")
		}
		finish(t, left)
	})
	t.Run("API server restart", func(t *testing.T) {
		left := cut(t, func(context.CancelFunc) {
			c.KillAPIServer()
			time.Sleep(2 * time.Second)
			if err := c.StartAPIServer(ctx); err != nil && !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		})
		// The run may have retried through the restart and finished: then the re-run has nothing
		// left to prune but must still say so.
		finish(t, left)
	})
}
