package core

import (
	"errors"
	"testing"
)

// TestPrefixes: a section's name is said once, and a trimmed error keeps what it wraps and its
// exit code.
func TestPrefixes(t *testing.T) {
	if got := Prefixed("lb", "lb: apply L2Advertisement"); got != "lb: apply L2Advertisement" {
		t.Errorf("Prefixed of a prefixed message: %q", got)
	}
	if got := Prefixed("lb", "apply L2Advertisement"); got != "lb: apply L2Advertisement" {
		t.Errorf("Prefixed: %q", got)
	}
	inner := errors.New("kubeflow: apply X: timed out")
	err := Wrapf(TrimPrefix(UsageErrorf("%w", inner), "kubeflow: "), "kubeflow: stopped")
	if got := Unexit(err).Error(); got != "kubeflow: stopped: apply X: timed out" {
		t.Errorf("trimmed and wrapped: %q", got)
	}
	if !IsUsageError(err) || !errors.Is(err, inner) {
		t.Errorf("the trimmed error lost its exit code (%v) or what it wraps (%v)", IsUsageError(err), errors.Is(err, inner))
	}
	plain := TrimPrefix(inner, "kubeflow: ")
	if plain.Error() != "apply X: timed out" || !errors.Is(plain, inner) {
		t.Errorf("TrimPrefix: %q", plain)
	}
}
