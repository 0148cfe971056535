// Package core is what every layer below the commands shares, without cobra: exit codes and
// usage errors, the typed dry-run strategy, the --timeout budget and the chart source of the
// helm-based sections. The flag kit that binds these to cobra flags is pkg/plugin/cmdutil.
package core

import (
	"errors"
	"fmt"
	"strings"
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

// IsUsageError tells whether err, or an error it wraps, carries exit code 2.
func IsUsageError(err error) bool {
	var e *ExitError
	return errors.As(err, &e) && e.Code == ExitUsage
}

// ExitCode is the exit code err carries (the outermost ExitError's), or ExitRuntime.
func ExitCode(err error) int {
	var e *ExitError
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitRuntime
}

// Unexit is err without its exit code: the message an ExitError carries (err itself otherwise).
func Unexit(err error) error {
	var e *ExitError
	if errors.As(err, &e) && e.Err != nil {
		return e.Err
	}
	return err
}

// Wrapf prefixes err with the section and what was being done, keeping its exit code.
func Wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *ExitError
	if errors.As(err, &e) {
		return &ExitError{Code: e.Code, Err: fmt.Errorf(format+": %w", append(args, e.Err)...)}
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// Prefixed is msg under name ("lb: msg"), once: a msg that already starts with "name: " is
// returned as it is.
func Prefixed(name, msg string) string {
	if strings.HasPrefix(msg, name+": ") {
		return msg
	}
	return name + ": " + msg
}

// TrimPrefix is err without prefix at the start of its message, for wrapping it under a line
// that already names it; errors.Is and errors.As still see err, and an ExitError keeps its code.
func TrimPrefix(err error, prefix string) error {
	var e *ExitError
	if errors.As(err, &e) && e.Err != nil && strings.HasPrefix(e.Err.Error(), prefix) {
		return &ExitError{Code: e.Code, Err: &trimmed{msg: strings.TrimPrefix(e.Err.Error(), prefix), err: e.Err}}
	}
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		return err
	}
	return &trimmed{msg: strings.TrimPrefix(err.Error(), prefix), err: err}
}

// trimmed is an error shown with another message.
type trimmed struct {
	msg string
	err error
}

func (t *trimmed) Error() string { return t.msg }
func (t *trimmed) Unwrap() error { return t.err }
