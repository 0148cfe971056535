package plugin

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
)

// ExitCode prints err (if any) the way kubectl does and maps it to the documented exit codes:
// 0 ok, 1 runtime error, 2 invalid input, 3 a check failed, 4 warnings only with --strict.
func ExitCode(err error, errOut io.Writer) int {
	if err == nil {
		return 0
	}
	var exit *cmdutil.ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(errOut, "error: %v\n", exit.Err)
		}
		return exit.Code
	}
	if strings.HasPrefix(err.Error(), "unknown command ") {
		// cobra's own, for a command name at the root: already has its suggestions.
		fmt.Fprintf(errOut, "error: %v\nSee 'kubectl flexigrobots --help' for usage.\n", strings.TrimRight(err.Error(), "\n"))
		return cmdutil.ExitUsage
	}
	fmt.Fprintf(errOut, "error: %v\n", err)
	return cmdutil.ExitRuntime
}
