package version

import (
	"bytes"
	"encoding/json"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

func TestVersionClientJSONAndBadOutput(t *testing.T) {
	f := kube.NewFactory(genericclioptions.NewConfigFlags(true))
	var out bytes.Buffer
	cmd := NewCmdVersion(f, genericiooptions.IOStreams{Out: &out, ErrOut: &bytes.Buffer{}})

	cmd.SetArgs([]string{"--client", "-o", "json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var info Info
	if err := json.Unmarshal(out.Bytes(), &info); err != nil || info.Client.GoVersion == "" || info.Server != nil {
		t.Fatalf("version --client -o json = %q (%v)", out.String(), err)
	}

	cmd = NewCmdVersion(f, genericiooptions.IOStreams{Out: &out, ErrOut: &bytes.Buffer{}})
	cmd.SetArgs([]string{"--client", "-o", "xml"})
	if err := cmd.Execute(); !core.IsUsageError(err) {
		t.Fatalf("-o xml: want a usage error (exit 2), got %v", err)
	}
}
