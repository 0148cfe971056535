package verify_test

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin"
)

// TestSectionCompletion: `--section <TAB>` offers the registered sections, no files.
func TestSectionCompletion(t *testing.T) {
	var out bytes.Buffer
	root := plugin.NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &bytes.Buffer{}})
	root.SetArgs([]string{"__complete", "verify", "--section", ""})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || lines[0] != "cluster" || lines[len(lines)-1] != ":4" {
		t.Fatalf("completion = %q, want cluster then :4 (no file completion)", out.String())
	}
}
