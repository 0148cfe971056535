// Command kubectl-flexigrobots is the kubectl plugin that builds the FlexiGroBots AI platform.
// Installed on PATH (by krew or go install) it runs as `kubectl flexigrobots ...`.
package main

import (
	// First: no package may load kubectl's translations before it (see the package).
	_ "github.com/flexigrobots/kubectl-flexigrobots/internal/noi18n"

	"context"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin"
)

func main() {
	ctx, stop := plugin.SignalContext()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// API warnings as kubectl prints them ("Warning: ...", each once), not as klog lines.
	rest.SetDefaultWarningHandler(rest.NewWarningWriter(streams.ErrOut, rest.WarningWriterOptions{Deduplicate: true}))
	err := plugin.NewRootCmd(streams).ExecuteContext(ctx)
	cause := context.Cause(ctx)
	stop()
	os.Exit(plugin.ExitCode(err, cause, streams.ErrOut))
}
