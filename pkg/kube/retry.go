package kube

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
)

// IsTransient tells whether err may go away by itself: the API server restarting (connection
// refused or reset, EOF), throttling (429) and server errors (5xx, apierrors.SuggestsClientDelay),
// a webhook that cannot be called yet, a CRD not yet served ("no matches for kind", or a 404 for
// the whole resource right after its CRD is established: see notServedYet), or a namespace still
// being created. The API machinery's own classifiers come first; the messages after them are
// what reaches us wrapped in text (helm's and discovery's errors).
func IsTransient(err error) bool {
	if err == nil || IsPermanent(err) {
		return false
	}
	if meta.IsNoMatchError(err) || notServedYet(err) {
		return true
	}
	if _, delay := apierrors.SuggestsClientDelay(err); delay ||
		apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) || apierrors.IsUnexpectedServerError(err) {
		return true
	}
	if se, ok := err.(apierrors.APIStatus); ok && se.Status().Code >= 500 {
		return true
	}
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	msg := err.Error()
	for _, s := range []string{
		"failed calling webhook", "connection refused", "connection reset", "http2: client connection lost",
		"context deadline exceeded (Client.Timeout",
		"the server is currently unable to handle the request", "conversion webhook", "etcdserver: request timed out",
		"i/o timeout", "TLS handshake timeout", "use of closed network connection", "unable to create new content in namespace",
		"because it is being terminated",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	// A namespaced object whose namespace is not yet visible (created in the same run).
	if apierrors.IsNotFound(err) && strings.Contains(msg, "namespaces \"") {
		return true
	}
	return false
}

// notServedYet tells whether err is the API server's 404 for a whole resource ("the server could
// not find the requested resource", no object named): what a custom resource gets for a moment
// after its CRD is established, and also what a resource the server does not serve at all gets
// forever. Retry gives it NotServedGrace, not the whole timeout.
func notServedYet(err error) bool {
	return strings.Contains(err.Error(), "the server could not find the requested resource")
}

// NotServedGrace is how long Retry retries a 404 for a whole resource (notServedYet) before it
// returns it as the permanent answer it then is.
var NotServedGrace = 15 * time.Second

// permanentMarkers are answers that no retry changes although the server sends them as 500s:
// the server cannot even build the typed object of the request, e.g. a CRD with CEL validation
// rules (x-kubernetes-validations) sent to Kubernetes < 1.25, whose schema lacks the field.
var permanentMarkers = []string{"failed to create typed patch object", "field not declared in schema"}

// IsPermanent tells whether err is an answer that will not change on retry although it looks
// like a server error (see permanentMarkers).
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, m := range permanentMarkers {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// Backoff is a capped exponential backoff for transient errors, each step jittered by up to
// 20% so that parallel applies do not retry in lockstep.
type Backoff struct {
	Initial, Max time.Duration
	next         time.Duration
}

// Sleep waits for the next step or until ctx ends (returning ctx's error).
func (b *Backoff) Sleep(ctx context.Context) error {
	return b.SleepAtLeast(ctx, 0)
}

// SleepAtLeast is Sleep, waiting at least min (a server's Retry-After) when that is longer.
func (b *Backoff) SleepAtLeast(ctx context.Context, min time.Duration) error {
	if b.next == 0 {
		b.next = b.Initial
		if b.next == 0 {
			b.next = 200 * time.Millisecond
		}
	}
	d := wait.Jitter(b.next, 0.2)
	if d < min {
		d = min
	}
	t := time.NewTimer(d)
	defer t.Stop()
	b.next *= 2
	if max := b.Max; max == 0 && b.next > 5*time.Second {
		b.next = 5 * time.Second
	} else if max > 0 && b.next > max {
		b.next = max
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retry calls fn until it succeeds, fails with a permanent error, or ctx ends; a server's
// Retry-After is honoured, and a 404 for a whole resource is retried for NotServedGrace only.
// It returns the last error of fn (not ctx's) so callers report the real reason.
func Retry(ctx context.Context, fn func(ctx context.Context) error) error {
	b := &Backoff{}
	var notServedSince time.Time
	for {
		err := fn(ctx)
		if err == nil || !IsTransient(err) {
			return err
		}
		if notServedYet(err) {
			if notServedSince.IsZero() {
				notServedSince = time.Now()
			} else if time.Since(notServedSince) > NotServedGrace {
				return err
			}
		} else {
			notServedSince = time.Time{}
		}
		seconds, _ := apierrors.SuggestsClientDelay(err)
		if ctx.Err() != nil || b.SleepAtLeast(ctx, time.Duration(seconds)*time.Second) != nil {
			return err
		}
	}
}
