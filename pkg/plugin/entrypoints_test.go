package plugin_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin"
)

// entryCase is one problem of a section's Spec, given through the command's flags and through
// the platform file's block.
type entryCase struct {
	name string
	// args are the command's; block is the file's spec (YAML under spec:; files it names are in
	// the test's folder, beside the file).
	args  []string
	block string
	// flag and field name the problem in each entry point (field under spec.); fragment is
	// what both messages say, unless the file's JSON Schema refuses the value first: then
	// fileFragment is what the file's says.
	flag, field, fragment, fileFragment string
}

// TestEverySpecProblemThroughBothEntryPoints: each section's Validate (and Load) problem is
// refused before anything changes, with exit code 2, once, naming the flag on the command and
// FILE:LINE:COL with the field in the file. No cluster is configured: nothing can change.
func TestEverySpecProblemThroughBothEntryPoints(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := write("client.crt", "not a certificate\n")
	notPEM := write("tls.crt", "not a certificate\n")
	key := write("tls.key", "not a key\n")
	t.Setenv("KUBECONFIG", filepath.Join(dir, "no-kubeconfig"))
	cases := []entryCase{
		{name: "gpu chart cert without key", args: []string{"gpu", "operator", "--chart-cert-file", cert},
			block: "gpu:\n    operator:\n      chart:\n        certFile: client.crt\n",
			flag:  "--chart-cert-file", field: "gpu.operator.chart.certFile", fragment: "give both"},
		{name: "lb chart cert without key", args: []string{"lb", "--addresses", "203.0.113.10/32", "--chart-cert-file", cert},
			block: "lb:\n    addresses: [203.0.113.10/32]\n    chart:\n      certFile: client.crt\n",
			flag:  "--chart-cert-file", field: "lb.chart.certFile", fragment: "give both"},
		{name: "storage chart password without username", args: []string{"storage", "--nfs-server", "nfs.example.internal", "--nfs-path", "/export", "--chart-password-file", cert},
			block: "storage:\n    nfsServer: nfs.example.internal\n    nfsPath: /export\n    chart:\n      passwordFile: client.crt\n",
			flag:  "--chart-password-file", field: "storage.chart.passwordFile", fragment: "needs"},
		{name: "lb overlapping addresses", args: []string{"lb", "--addresses", "203.0.113.0/30,203.0.113.2/32"},
			block: "lb:\n    addresses: [203.0.113.0/30, 203.0.113.2/32]\n",
			flag:  "--addresses", field: "lb.addresses[1]", fragment: "overlap"},
		{name: "tls certificate that is no PEM", args: []string{"tls", "--domain", "kubeflow.example.org", "--cert", notPEM, "--key", key},
			block: "tls:\n    domain: kubeflow.example.org\n    manual:\n      certFile: tls.crt\n      keyFile: tls.key\n",
			flag:  "--cert", field: "tls.manual.certFile", fragment: "PEM"},
		{name: "storage path with a space", args: []string{"storage", "--nfs-server", "nfs.example.internal", "--nfs-path", "/nfsroot/a b"},
			block: "storage:\n    nfsServer: nfs.example.internal\n    nfsPath: /nfsroot/a b\n",
			flag:  "--nfs-path", field: "storage.nfsPath", fragment: "space or a comma", fileFragment: "does not match pattern"},
		{name: "kubeflow version unknown", args: []string{"kubeflow", "--version", "v9.9.9"},
			block: "kubeflow:\n    version: v9.9.9\n",
			flag:  "--version", field: "kubeflow.version", fragment: "unknown Kubeflow version", fileFragment: "must be one of"},
		{name: "profiles both all and named", args: []string{"profile", "poddefault", "--all-profiles", "alice"},
			block: "profiles:\n    allProfiles: true\n    namespaces: [alice]\n",
			flag:  "--all-profiles", field: "profiles", fragment: "not both", fileFragment: "exactly one of allProfiles or namespaces"},
		{name: "gpu slicing config name", args: []string{"gpu", "slicing", "--replicas", "4", "--config-name", "Bad_Name"},
			block: "gpu:\n    slicing:\n      replicas: 4\n      configName: Bad_Name\n",
			flag:  "--config-name", field: "gpu.slicing.configName", fragment: "not a valid ConfigMap name", fileFragment: "does not match pattern"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The command.
			out, err := run(c.args...)
			msg := err.Error()
			if !core.IsUsageError(err) || !strings.Contains(msg, c.flag) || strings.Count(msg, c.fragment) != 1 {
				t.Errorf("command %v: want one usage error naming %s and saying %q once, got %v\n%s", c.args, c.flag, c.fragment, err, out)
			}
			if strings.Contains(msg, "spec.") {
				t.Errorf("command %v: its error names the file's field: %v", c.args, err)
			}
			// The file.
			file := write(fmt.Sprintf("plugins-%d.yaml", i),
				"apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata:\n  name: p\nspec:\n  "+c.block)
			out, err = run("apply", "-f", file)
			msg = err.Error()
			fileFragment := c.fragment
			if c.fileFragment != "" {
				fileFragment = c.fileFragment
			}
			at := regexp.MustCompile(regexp.QuoteMeta(file) + `:\d+:\d+: spec\.` + regexp.QuoteMeta(c.field) + `: `)
			if !core.IsUsageError(err) || !at.MatchString(msg) || strings.Count(msg, fileFragment) != 1 || !strings.Contains(msg, "1 problem(s)") {
				t.Errorf("apply -f: want one usage error at FILE:LINE:COL: spec.%s saying %q once, got %v\n%s", c.field, fileFragment, err, out)
			}
			if strings.Contains(msg, c.flag+" ") || strings.Contains(msg, c.flag+":") {
				t.Errorf("apply -f: its error names the command's flag %s: %v", c.flag, err)
			}
		})
	}
}

// run executes the root command in this process, as main does.
func run(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	root := plugin.NewRootCmd(genericiooptions.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		err = &noError{}
	}
	return out.String() + errOut.String(), err
}

// noError stands for a run that did not fail, so the assertions report it.
type noError struct{}

func (*noError) Error() string { return "no error (exit 0)" }
