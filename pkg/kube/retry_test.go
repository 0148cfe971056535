package kube

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
