package kube_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const waitSet = `
apiVersion: v1
kind: Namespace
metadata: {name: waits}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: fine, namespace: waits}
spec:
  replicas: 2
  selector: {matchLabels: {app: fine}}
  template:
    metadata: {labels: {app: fine}}
    spec: {containers: [{name: c, image: registry.invalid/fine:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck, namespace: waits}
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata: {labels: {app: stuck}}
    spec:
      nodeSelector: {no-such-node: "true"}
      containers: [{name: c, image: registry.invalid/stuck:1}]
`

// TestWaitReportsWhatIsNotReadyAndWhy: the ready Deployment passes; the one whose pods cannot be
// scheduled makes the wait fail at its timeout with the pod's phase and last event, and progress
// lines go to the progress writer.
func TestWaitReportsWhatIsNotReadyAndWhy(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	cl := clientsFor(t, c)
	ctx := context.Background()
	if _, err := (&kube.Applier{Clients: cl}).Apply(ctx, decode(t, waitSet)); err != nil {
		t.Fatal(err)
	}
	var progress bytes.Buffer
	w := &kube.Waiter{Clients: cl, Progress: output.NewProgress(&progress), Label: "waits", Interval: 300 * time.Millisecond}

	okCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := w.Wait(okCtx, []kube.Target{{GVR: kube.DeploymentsGVR, Namespace: "waits", Name: "fine"}}); err != nil {
		t.Fatalf("ready Deployment: %v", err)
	}

	stuckCtx, cancel2 := context.WithTimeout(ctx, 6*time.Second)
	defer cancel2()
	err := w.Wait(stuckCtx, kube.Workloads("waits"))
	if err == nil {
		t.Fatal("wait succeeded although deployment stuck cannot be scheduled")
	}
	msg := err.Error()
	for _, want := range []string{"waits/deployment/stuck", "phase Pending", "FailedScheduling"} {
		if !strings.Contains(msg, want) {
			t.Errorf("timeout error does not say %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "deployment/fine") {
		t.Errorf("timeout error lists the ready Deployment:\n%s", msg)
	}
	if !strings.Contains(progress.String(), "waits: 1/2 ready") {
		t.Errorf("no progress line `waits: 1/2 ready` in:\n%s", progress.String())
	}

	// Interrupted (Ctrl-C cancels the run's context): the wait stops with the cause, without the
	// explanation's API calls.
	interrupted := errors.New("interrupted (Ctrl-C)")
	intCtx, cancel3 := context.WithCancelCause(ctx)
	time.AfterFunc(time.Second, func() { cancel3(interrupted) })
	err = w.Wait(intCtx, kube.Workloads("waits"))
	if !errors.Is(err, interrupted) || strings.Contains(err.Error(), "phase Pending") {
		t.Fatalf("interrupted wait: want the cause and no explanation, got %v", err)
	}
}
