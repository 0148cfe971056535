package kube

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A CRD with CEL rules sent to Kubernetes < 1.25 comes back as a 500 that no retry changes:
// Retry must return it at once instead of retrying until the context ends.
func TestRetryStopsOnPermanentServerError(t *testing.T) {
	cel := apierrors.NewInternalError(errors.New(`failed to create typed patch object (/gpuclusters.nvidia.com; apiextensions.k8s.io/v1, Kind=CustomResourceDefinition): .spec.versions[0].schema.openAPIV3Schema.properties.spec.x-kubernetes-validations: field not declared in schema`))
	if IsTransient(cel) || !IsPermanent(cel) {
		t.Fatalf("CEL refusal: transient %v, permanent %v", IsTransient(cel), IsPermanent(cel))
	}
	if !IsTransient(apierrors.NewInternalError(errors.New("etcd leader changed"))) {
		t.Fatal("an ordinary 500 must stay transient")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	start := time.Now()
	err := Retry(ctx, func(context.Context) error { calls++; return cel })
	if calls != 1 || err != cel || time.Since(start) > 5*time.Second {
		t.Fatalf("Retry: %d calls in %s, err %v", calls, time.Since(start), err)
	}
}

// A 404 for a whole resource is what a custom resource gets for a moment after its CRD is
// established, and forever when the server does not serve it: retried for NotServedGrace only.
func TestRetryGivesAWholeResource404AGraceOnly(t *testing.T) {
	defer func(g time.Duration) { NotServedGrace = g }(NotServedGrace)
	NotServedGrace = 500 * time.Millisecond
	notServed := apierrors.NewGenericServerResponse(404, "get", schema.GroupResource{Group: "example.io", Resource: "widgets"}, "", "", 0, false)
	if !IsTransient(notServed) {
		t.Fatalf("%v: want transient (a CRD just established)", notServed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	calls := 0
	start := time.Now()
	err := Retry(ctx, func(context.Context) error { calls++; return notServed })
	if err != notServed || calls < 2 || time.Since(start) > 10*time.Second {
		t.Fatalf("Retry: %d calls in %s, err %v: want a few retries, then the 404 well before the context ends", calls, time.Since(start), err)
	}
	if obj := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "web-0"); IsTransient(obj) {
		t.Errorf("%v: an object that does not exist is not transient", obj)
	}
}

// The API machinery's classifiers: a reset connection and a probable EOF are transient, and a
// 429's Retry-After is waited for.
func TestRetryHonoursRetryAfter(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	if !IsTransient(fmt.Errorf("list pods: %w", reset)) {
		t.Error("a reset connection must be transient")
	}
	throttled := apierrors.NewTooManyRequests("slow down", 1)
	calls := 0
	var second time.Duration
	start := time.Now()
	err := Retry(context.Background(), func(context.Context) error {
		calls++
		if calls == 1 {
			return throttled
		}
		second = time.Since(start)
		return nil
	})
	if err != nil || calls != 2 || second < 900*time.Millisecond {
		t.Fatalf("Retry after a 429 with Retry-After 1s: err %v, %d calls, retried after %s", err, calls, second)
	}
}
