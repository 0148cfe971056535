package section

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// blockSpec is a Spec with one field, for the record.
type blockSpec struct {
	Pool string `json:"pool"`
}

func (*blockSpec) Default() {}

func (*blockSpec) Validate() core.Problems { return nil }

// TestPlatformRecordOnTheAPIServer (apiserver-only 1.37 bed): sections recording at once each
// keep their block; the same block again writes nothing (no resourceVersion moves); a changed
// one is written; forgetting takes a block out, and the ConfigMap goes with the last one.
func TestPlatformRecordOnTheAPIServer(t *testing.T) {
	c, r, ctx := recordBed(t)
	cl := r.Clients
	names := []string{"storage", "lb", "kubeflow", "gpu"}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Go(func() { _, errs[i] = recordBlock(ctx, r, n, &blockSpec{Pool: n + "-pool"}) })
	}
	wg.Wait()
	blocks, err := RecordedBlocks(ctx, cl)
	if err != nil || len(blocks) != len(names) {
		t.Fatalf("after recording at once: %v %v %v", errs, err, blocks)
	}
	for _, n := range names {
		if blocks[n] != fmt.Sprintf("pool: %s-pool\n", n) {
			t.Errorf("block %s: %q", n, blocks[n])
		}
	}
	cms := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	rv := func() string {
		cm, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return cm.ResourceVersion
	}
	before := rv()
	if _, err := recordBlock(ctx, r, "lb", &blockSpec{Pool: "lb-pool"}); err != nil || rv() != before {
		t.Errorf("recording the same block again: %v, resourceVersion moved: %v", err, rv() != before)
	}
	if _, err := recordBlock(ctx, r, "lb", &blockSpec{Pool: "other"}); err != nil || rv() == before {
		t.Errorf("a changed block: %v, written: %v", err, rv() != before)
	}
	for i, n := range names {
		if err := forgetBlock(ctx, r, n); err != nil {
			t.Fatal(err)
		}
		blocks, _ := RecordedBlocks(ctx, cl)
		if _, still := blocks[n]; still || len(blocks) != len(names)-i-1 {
			t.Errorf("after forgetting %s: %v", n, blocks)
		}
	}
	if _, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the record is still there without blocks: %v", err)
	}
	if err := forgetBlock(ctx, r, "lb"); err != nil {
		t.Errorf("forgetting without a record: %v", err)
	}
}

// TestPendingNotesOnTheAPIServer (apiserver-only 1.37 bed): sections noting at once each keep
// their note; the same note again writes nothing; a note is written on a run whose context is
// gone (Ctrl-C after a change); clearing takes it out.
func TestPendingNotesOnTheAPIServer(t *testing.T) {
	c, r, ctx := recordBed(t)
	cms := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	t.Cleanup(func() { _ = cms.Delete(context.Background(), PlatformRecord, metav1.DeleteOptions{}) })
	names := []string{"pending-a", "pending-b", "pending-c"}
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() { notePending(ctx, r, n, true) })
	}
	wg.Wait()
	for _, n := range names {
		if on, err := postConditionsPending(ctx, r, n); err != nil || !on {
			t.Errorf("%s after noting at once: pending %v, %v", n, on, err)
		}
	}
	cm, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	notePending(ctx, r, "pending-a", true)
	if again, _ := cms.Get(ctx, PlatformRecord, metav1.GetOptions{}); again.ResourceVersion != cm.ResourceVersion {
		t.Error("the same note again moved the resourceVersion")
	}
	gone, stop := context.WithCancel(ctx)
	stop()
	notePending(gone, r, "interrupted", true)
	if on, err := postConditionsPending(ctx, r, "interrupted"); err != nil || !on {
		t.Errorf("a note from a run whose context is gone: pending %v, %v", on, err)
	}
	notePending(ctx, r, "pending-b", false)
	if on, _ := postConditionsPending(ctx, r, "pending-b"); on {
		t.Error("a cleared note is still there")
	}
	if on, _ := postConditionsPending(ctx, r, "pending-a"); !on {
		t.Error("clearing one note took another")
	}
}

// recordBed is the shared apiserver-only 1.37 bed, a Run on its clients and a minute's context.
func recordBed(t *testing.T) (*testbed.Cluster, *Run, context.Context) {
	t.Helper()
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c, &Run{Clients: cl}, ctx
}
