// Package cmdutil holds what every subcommand shares: the client factory built from kubectl's
// ConfigFlags, exit codes, and the common mutating flags (--dry-run, --wait, --timeout, -o).
package cmdutil

import (
	"fmt"
)

// Exit codes of every command (see README "Exit codes").
const (
	ExitOK       = 0
	ExitRuntime  = 1
	ExitUsage    = 2
	ExitFailed   = 3
	ExitWarnings = 4
	// ExitDiffChanged and ExitDiffError are a --diff run's (kubectl diff's convention): 1
	// something would change, >1 the diff could not be made (2 stays invalid input).
	ExitDiffChanged = 1
	ExitDiffError   = 3
)

// AnnotationDiff on a command makes every run of it a --diff run (the `diff` verb).
const AnnotationDiff = "flexigrobots.io/diff"

// ExitError carries an exit code up to main. Err is printed; a nil Err prints nothing (the command
// already reported, e.g. a failed verify table).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit code %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// UsageErrorf reports invalid input: exit code 2, detected before any change to the cluster.
// The message should say what is wrong and how to fix it.
func UsageErrorf(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// IsUsageError tells whether err carries exit code 2.
func IsUsageError(err error) bool {
	e, ok := err.(*ExitError)
	return ok && e.Code == ExitUsage
}
