package completion_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: rke-prod
  cluster: {server: "https://127.0.0.1:1"}
- name: rke-staging
  cluster: {server: "https://127.0.0.1:2"}
- name: lab
  cluster: {server: "https://127.0.0.1:3"}
users:
- name: admin-prod
  user: {token: not-used}
- name: admin-staging
  user: {token: not-used}
contexts:
- name: prod
  context: {cluster: rke-prod, user: admin-prod}
- name: staging
  context: {cluster: rke-staging, user: admin-staging}
- name: lab
  context: {cluster: lab, user: admin-prod}
current-context: lab
`

// complete runs the root command's hidden __complete with args, the way a shell script does, and
// returns the candidates (descriptions cut) and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := plugin.NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"__complete"}, args...))
	if err := root.Execute(); err != nil {
		t.Fatalf("__complete %v: %v\n%s", args, err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var comps []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		comps = append(comps, name)
	}
	slices.Sort(comps)
	return comps, lines[len(lines)-1]
}

func writeKubeconfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKubeconfigFlagValues proves --context, --cluster and --user complete from the kubeconfig
// named by --kubeconfig on the same command line, filtered by the typed prefix, without files.
func TestKubeconfigFlagValues(t *testing.T) {
	kc := writeKubeconfig(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--kubeconfig", kc, "--context", ""}, []string{"lab", "prod", "staging"}},
		{[]string{"--kubeconfig", kc, "version", "--context", "st"}, []string{"staging"}},
		{[]string{"--kubeconfig", kc, "--cluster", "rke-"}, []string{"rke-prod", "rke-staging"}},
		{[]string{"--kubeconfig", kc, "--user", "admin-p"}, []string{"admin-prod"}},
		{[]string{"--kubeconfig", kc, "--context", "nope"}, nil},
	}
	for _, c := range cases {
		got, directive := complete(t, c.args...)
		if !slices.Equal(got, c.want) {
			t.Errorf("__complete %v = %v, want %v", c.args, got, c.want)
		}
		if directive != ":4" { // ShellCompDirectiveNoFileComp
			t.Errorf("__complete %v directive = %s, want :4 (no file completion)", c.args, directive)
		}
	}
}

// TestCommandNames proves subcommands and the completion shells complete by prefix.
func TestCommandNames(t *testing.T) {
	if got, _ := complete(t, "ver"); !slices.Contains(got, "version") || slices.Contains(got, "completion") {
		t.Errorf("__complete ver = %v, want version and not completion", got)
	}
	if got, _ := complete(t, "completion", ""); !slices.Equal(got, []string{"bash", "fish", "powershell", "zsh"}) {
		t.Errorf("__complete completion '' = %v, want the four shells", got)
	}
}

// TestScripts proves each shell's script is generated for the kubectl-flexigrobots binary and that
// a missing or unknown shell is a usage error (exit 2) that names the valid shells.
func TestScripts(t *testing.T) {
	marks := map[string]string{
		"bash":       "complete -o default -F __start_kubectl-flexigrobots kubectl-flexigrobots",
		"zsh":        "#compdef kubectl-flexigrobots",
		"fish":       "complete -c kubectl-flexigrobots",
		"powershell": "Register-ArgumentCompleter -CommandName 'kubectl-flexigrobots'",
	}
	for shell, mark := range marks {
		var out bytes.Buffer
		root := plugin.NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
		root.SetArgs([]string{"completion", shell})
		if err := root.Execute(); err != nil {
			t.Fatalf("completion %s: %v", shell, err)
		}
		if !strings.Contains(out.String(), mark) {
			t.Errorf("completion %s: script lacks %q", shell, mark)
		}
		if root.Use != "flexigrobots" {
			t.Errorf("completion %s left the root named %q", shell, root.Use)
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}} {
		var out bytes.Buffer
		root := plugin.NewRootCmd(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
		root.SetArgs(args)
		err := root.Execute()
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), "bash, zsh, fish, powershell") {
			t.Errorf("%v: err = %v, want a usage error naming the shells", args, err)
		}
	}
}
