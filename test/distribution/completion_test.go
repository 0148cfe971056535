package distribution

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// bashCompleteScript loads the plugin's bash completion the way a user does (source <(...)) and
// prints what TAB offers after the words in $WORDS. bash-completion provides
// _get_comp_words_by_ref when installed; without it, COMP_WORDS are taken as they are. compopt
// only works while readline runs a completion, so it is a no-op here (it changes how the shell
// shows COMPREPLY, not its content).
const bashCompleteScript = `
compopt() { :; }
[ -r /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
if ! declare -F _get_comp_words_by_ref >/dev/null; then
  _get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
fi
source <(kubectl-flexigrobots completion bash)
read -ra COMP_WORDS <<<"$WORDS"
[ "${WORDS: -1}" = " " ] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$WORDS
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
__start_kubectl-flexigrobots
printf '%s\n' "${COMPREPLY[@]}"
`

// bashComplete runs bashCompleteScript for the typed line with the plugin binary first on PATH.
func bashComplete(t *testing.T, line string, env ...string) []string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed: the bash completion script cannot be loaded")
	}
	bin := testbed.PluginBinary(t)
	cmd := exec.Command(bash, "-c", bashCompleteScript)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "WORDS="+line)
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s%s", line, err, out, stderr.String())
	}
	var comps []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			comps = append(comps, l)
		}
	}
	slices.Sort(comps)
	t.Logf("kubectl-flexigrobots completion for %q: %v", line, comps)
	return comps
}

// TestBashCompletionScript sources `completion bash` in bash and completes command names, the
// completion command's shells and --context from a kubeconfig: what TAB shows a bash user.
func TestBashCompletionScript(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin and runs bash: skipped under -short")
	}
	got := bashComplete(t, "kubectl-flexigrobots ver")
	if !slices.Contains(got, "version") || slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "ver") }) {
		t.Errorf("kubectl-flexigrobots ver<TAB> = %v, want version and only commands starting with ver", got)
	}
	if got := bashComplete(t, "kubectl-flexigrobots completion "); !slices.Equal(got, []string{"bash", "fish", "powershell", "zsh"}) {
		t.Errorf("kubectl-flexigrobots completion <TAB> = %v, want the four shells", got)
	}
	kc := filepath.Join(t.TempDir(), "config")
	config := `apiVersion: v1
kind: Config
clusters: [{name: c1, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u1, user: {token: not-used}}]
contexts:
- {name: prod, context: {cluster: c1, user: u1}}
- {name: staging, context: {cluster: c1, user: u1}}
- {name: staging-gpu, context: {cluster: c1, user: u1}}
`
	if err := os.WriteFile(kc, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := bashComplete(t, "kubectl-flexigrobots version --context sta", "KUBECONFIG="+kc); !slices.Equal(got, []string{"staging", "staging-gpu"}) {
		t.Errorf("--context sta<TAB> = %v, want staging and staging-gpu", got)
	}
}

// TestNamespaceCompletion completes --release-namespace from the namespaces of a real cluster
// (the test bed).
func TestNamespaceCompletion(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	got := bashComplete(t, "kubectl-flexigrobots lb --release-namespace kube-", "KUBECONFIG="+c.Kubeconfig)
	if !slices.Equal(got, []string{"kube-node-lease", "kube-public", "kube-system"}) {
		t.Errorf("lb --release-namespace kube-<TAB> = %v, want kube-node-lease kube-public kube-system", got)
	}
}
