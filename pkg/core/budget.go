package core

import (
	"context"
	"time"
)

// WithBudget bounds a whole command (or one section of apply -f) by its --timeout: every step
// after it shares what is left, so the command ends within d however many phases it has. A d
// of zero or less leaves ctx as it is.
func WithBudget(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// Budget is what a step may take of d: d, or what is left until ctx's deadline when that comes
// sooner (at least a second, so the step ends on the context with its own message rather than
// on a zero timeout). Steps that take a duration rather than a context (helm's, the probes') use it.
func Budget(ctx context.Context, d time.Duration) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return d
	}
	left := time.Until(dl)
	if left < time.Second {
		left = time.Second
	}
	if d <= 0 || left < d {
		return left
	}
	return d
}
