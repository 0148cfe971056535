package plugin

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// maxVerbosity is the highest klog level the plugin turns on. From 8 up client-go logs request
// and response bodies, and bodies hold Secret data (TLS keys, OIDC and GitHub client secrets):
// kubectl prints them, the plugin does not.
const maxVerbosity = 7

// addVerbosityFlag gives the root kubectl's -v/--v (klog's level: 6 shows every request and its
// status, 7 its headers) and caps it at maxVerbosity with a note on errOut.
func addVerbosityFlag(root *cobra.Command, errOut io.Writer) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	// client-go logs a request cut short by Ctrl-C ("Unexpected error when reading response
	// body" err="context canceled"); the command says once that it was interrupted.
	// Errors too: klog writes those straight to os.Stderr as well, past the filter, unless the
	// threshold for that is above them; and once per lower severity's output unless one_output
	// (all of them are errOut here).
	klog.LogToStderr(false)
	_ = fs.Set("stderrthreshold", "FATAL")
	_ = fs.Set("one_output", "true")
	klog.SetOutput(withoutCancellations{errOut})
	v := fs.Lookup("v")
	v.Usage = fmt.Sprintf("Log level for debugging, as kubectl's -v (6: every API request and its status; at most %d: request and response bodies, which can hold Secret data, are never logged)", maxVerbosity)
	root.PersistentFlags().AddGoFlag(v)
	prev := root.PersistentPreRunE
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if n, err := strconv.Atoi(v.Value.String()); err == nil && n > maxVerbosity {
			_ = v.Value.Set(strconv.Itoa(maxVerbosity))
			fmt.Fprintf(errOut, "note: -v=%d lowered to %d: from 8 up request and response bodies would be logged, and they can hold Secret data\n", n, maxVerbosity)
		}
		if prev != nil {
			return prev(cmd, args)
		}
		return nil
	}
}

// withoutCancellations drops klog lines that only say a request was cancelled with its run.
type withoutCancellations struct{ w io.Writer }

func (f withoutCancellations) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`err="context canceled"`)) {
		return len(p), nil
	}
	return f.w.Write(p)
}
