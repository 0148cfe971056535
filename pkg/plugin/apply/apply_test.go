package apply

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/testcert"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	// A kubeconfig that points nowhere: nothing here may reach a cluster.
	flags := genericclioptions.NewConfigFlags(true)
	none := filepath.Join(t.TempDir(), "no-kubeconfig")
	flags.KubeConfig = &none
	var out bytes.Buffer
	cmd := NewCmdApply(kube.NewFactory(flags), genericiooptions.IOStreams{Out: &out, ErrOut: &bytes.Buffer{}})
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestPrintExampleAndSchema(t *testing.T) {
	out, err := run(t, "--print-example")
	if err != nil || out != string(schema.Example) {
		t.Fatalf("--print-example: %v\n%s", err, out)
	}
	out, err = run(t, "--print-schema")
	if err != nil || !strings.Contains(out, `"const": "Platform"`) {
		t.Fatalf("--print-schema: %v", err)
	}
}

// Bad input is refused (exit 2) before any client is built.
func TestBadInputBeforeTheCluster(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gh-secret.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	testcert.Write(t, dir, "kubeflow.example.com", "tls.crt", "tls.key")
	good := filepath.Join(dir, "plugins.yaml")
	if err := os.WriteFile(good, schema.Example, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-f is required"},
		{[]string{"-f", filepath.Join(dir, "missing.yaml")}, "no such file"},
		{[]string{"-f", good, "--only", "dns"}, `"dns": not a section`},
		{[]string{"-f", good, "--dry-run=maybe"}, "invalid --dry-run"},
		{[]string{"-f", good, "-o", "xml"}, "unknown output format"},
	} {
		_, err := run(t, tc.args...)
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want a usage error with %q, got %v", tc.args, tc.want, err)
		}
	}
}
