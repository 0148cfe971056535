package plugin

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// ExitCode prints err (if any) the way kubectl does and maps it to the documented exit codes:
// 0 ok, 1 runtime error, 2 invalid input, 3 a check failed, 4 warnings only with --strict, and
// 128 + the signal's number (130 Ctrl-C, 143 SIGTERM) when cause, the run context's, is an
// *Interrupted: then the error is one line, as the per-object details of a cancelled run would
// only repeat "context canceled".
func ExitCode(err, cause error, errOut io.Writer) int {
	if err == nil {
		return 0
	}
	var in *Interrupted
	if errors.As(cause, &in) {
		return interruptedExit(err, in, errOut)
	}
	var exit *core.ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(errOut, "error: %s\n", timedOutRequests(exit.Err.Error()))
		}
		return exit.Code
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		// cobra's own, for a command name at the root: already has its suggestions.
		fmt.Fprintf(errOut, "error: %v\nSee 'kubectl flexigrobots --help' for usage.\n", strings.TrimRight(err.Error(), "\n"))
		return core.ExitUsage
	}
	fmt.Fprintf(errOut, "error: %s\n", timedOutRequests(err.Error()))
	return core.ExitRuntime
}

// timedOut is client-go's words for a request the budget ended: `Patch "https://host/path?query":
// context deadline exceeded`.
var timedOut = regexp.MustCompile(`(Get|Patch|Post|Put|Delete) "https?://[^/"]+([^?"]*)[^"]*": context deadline exceeded`)

// timedOutRequests says in msg what a request cut by the budget was, without the server's
// address and the query: `Patch /api/v1/namespaces/x/configmaps/y: the --timeout ran out (run
// again with a longer --timeout; what was done stays)`.
func timedOutRequests(msg string) string {
	return timedOut.ReplaceAllString(msg, "${1} ${2}: the --timeout ran out (run again with a longer --timeout; what was done stays)")
}

func interruptedExit(err error, in *Interrupted, errOut io.Writer) int {
	msg := err.Error()
	var exit *core.ExitError
	if errors.As(err, &exit) {
		msg = ""
		if exit.Err != nil {
			msg = exit.Err.Error()
		}
	}
	first, _, _ := strings.Cut(msg, "\n")
	switch {
	case first == "":
		first = in.Error()
	case !strings.Contains(first, "interrupted"):
		first += " (" + in.Error() + ")"
	}
	fmt.Fprintf(errOut, "error: %s\n", first)
	return in.ExitCode()
}
