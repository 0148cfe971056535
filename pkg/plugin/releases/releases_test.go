package releases

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := NewCmdReleases(kube.NewFactory(genericclioptions.NewConfigFlags(false)), genericiooptions.IOStreams{Out: &out, ErrOut: &out})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// TestOffline: --kubernetes evaluates the matrix without a cluster; a bad version is exit 2.
func TestOffline(t *testing.T) {
	out, err := run(t, "--kubernetes", "1.23", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rep versions.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	got := map[string]string{}
	for _, s := range rep.Sections {
		got[s.Section] = s.Default
	}
	if rep.Kubernetes != "1.23" || got["kubeflow"] != "" || got["lb"] != "0.14.3" || got["gpu"] != "v23.6.2" || got["storage"] != "4.0.18" {
		t.Fatalf("report %+v", got)
	}
	out, err = run(t, "--kubernetes", "v1.37.2+rke2r1")
	if err != nil || !strings.Contains(out, "kubeflow  26.03") || !strings.Contains(out, "best guess") {
		t.Fatalf("table: %v\n%s", err, out)
	}
	if _, err := run(t, "--kubernetes", "x"); !core.IsUsageError(err) || !strings.Contains(err.Error(), "not a Kubernetes version") {
		t.Fatalf("want a usage error, got %v", err)
	}
}
