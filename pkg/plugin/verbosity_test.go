package plugin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"
)

// TestKlogCancellationsDropped: client-go's error line for a request cut short by Ctrl-C reaches
// neither the command's stderr nor the process's own (klog writes errors to os.Stderr besides its
// output unless told not to); any other error line reaches the command's stderr once.
func TestKlogCancellationsDropped(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = w
	var errOut bytes.Buffer
	addVerbosityFlag(&cobra.Command{Use: "x"}, &errOut)
	klog.ErrorS(context.Canceled, "Unexpected error when reading response body")
	klog.ErrorS(errors.New("connection refused"), "Unexpected error when reading response body")
	klog.Flush()
	os.Stderr = stderr
	_ = w.Close()
	direct, _ := io.ReadAll(r)
	if len(direct) > 0 {
		t.Errorf("klog wrote to the process's stderr past the filter:\n%s", direct)
	}
	if strings.Contains(errOut.String(), "context canceled") {
		t.Errorf("the cancellation reached the command's stderr:\n%s", errOut.String())
	}
	if strings.Count(errOut.String(), "connection refused") != 1 {
		t.Errorf("the other error should be on the command's stderr once:\n%s", errOut.String())
	}
}
