package plugin

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Interrupted is the cause of a run's context when SIGINT (Ctrl-C) or SIGTERM arrived.
type Interrupted struct{ Signal syscall.Signal }

func (i *Interrupted) Error() string {
	if i.Signal == syscall.SIGINT {
		return "interrupted (Ctrl-C)"
	}
	return "interrupted (" + signalName(i.Signal) + ")"
}

// ExitCode is what a shell reports for a command the signal ended: 128 + its number (130 for
// SIGINT, 143 for SIGTERM).
func (i *Interrupted) ExitCode() int { return 128 + int(i.Signal) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// SignalContext returns a context that the first SIGINT or SIGTERM cancels with an *Interrupted
// cause, so every phase stops and cleans up what it started; a second signal exits at once, as
// kubectl and helm do. stop releases the signals.
func SignalContext() (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *Interrupted
		for {
			select {
			case <-done:
				return
			case s := <-sigs:
				sig, _ := s.(syscall.Signal)
				if first != nil {
					os.Exit(first.ExitCode())
				}
				first = &Interrupted{Signal: sig}
				cancel(first)
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}
