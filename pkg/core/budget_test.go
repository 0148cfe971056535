package core

import (
	"context"
	"testing"
	"time"
)

func TestBudgetSharesWhatIsLeft(t *testing.T) {
	if got := Budget(context.Background(), 5*time.Minute); got != 5*time.Minute {
		t.Errorf("no deadline: got %s, want the step's own 5m", got)
	}
	ctx, cancel := WithBudget(context.Background(), 30*time.Second)
	defer cancel()
	if got := Budget(ctx, 5*time.Minute); got > 30*time.Second || got < 29*time.Second {
		t.Errorf("a 5m step under a 30s budget may take %s, want what is left (about 30s)", got)
	}
	if got := Budget(ctx, 10*time.Second); got != 10*time.Second {
		t.Errorf("a 10s step under a 30s budget: got %s", got)
	}
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Minute))
	defer cancelPast()
	if got := Budget(past, time.Minute); got != time.Second {
		t.Errorf("past the deadline: got %s, want the one-second floor", got)
	}
	if same, _ := WithBudget(context.Background(), 0); same != context.Background() {
		t.Error("a zero budget must leave the context unbounded")
	}
}
