package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestUsageMistakes: what a first-time user types wrong is exit 2 with a first line that says
// what is wrong (and, where cobra can tell, what was meant), before any cluster is read: the
// kubeconfig here does not exist.
func TestUsageMistakes(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		firstLine string
		more      string
	}{
		{[]string{"storag"}, `error: unknown command "storag" for "kubectl flexigrobots"`, "\tstorage"},
		{[]string{"gpu", "slicng", "--replicas", "4"}, `error: unknown command "slicng" for "kubectl flexigrobots gpu"`, "\tslicing"},
		{[]string{"profile", "pod"}, `error: unknown command "pod" for "kubectl flexigrobots profile"`, "\tpoddefault"},
		{[]string{"lb", "--bogus"}, "error: unknown flag: --bogus", "See 'kubectl flexigrobots lb --help' for usage."},
		{[]string{"lb", "--addresses", "127.240.0.10/32", "--timeout", "5"}, `error: invalid argument "5" for "--timeout" flag`, "e.g. 90s, 5m or 1h"},
		{[]string{"lb", "--addresses", "127.240.0.10/32", "--dry-run", "server"}, "error: --dry-run takes its mode after '=': --dry-run=server", ""},
		{[]string{"version", "extra"}, `error: unknown argument "extra" for "kubectl flexigrobots version"`, ""},
		{[]string{"kubeflow", "--diff", "--dry-run=client"}, "error: --diff runs a server-side dry run: leave --dry-run out", ""},
		{[]string{"diff", "-f", "plugins.yaml", "-o", "json"}, "error: unknown shorthand flag: 'o' in -o", ""},
		// --replicas is an int flag whose error says what a good value is (not strconv's words).
		{[]string{"gpu", "slicing", "--replicas", "four"}, `error: invalid --replicas "four": give a whole number from 1 to 64`, ""},
		// A misspelt flag gets the nearest one, as a misspelt command does.
		{[]string{"storage", "--nfs-sever", "127.0.0.1"}, "error: unknown flag: --nfs-sever", "Did you mean this?\n\t--nfs-server\n"},
		{[]string{"kubeflow", "--registraton-flow"}, "error: unknown flag: --registraton-flow", "\t--registration-flow\n"},
		// No -n that nothing reads: the error says where namespaces are named instead.
		{[]string{"storage", "-n", "nfs"}, "error: unknown shorthand flag: 'n' in -n", "--release-namespace"},
		{[]string{"profile", "poddefault", "--namespace", "alice"}, "error: unknown flag: --namespace", "profile poddefault NAMESPACE"},
		// No Go internals (netip's call, a regexp dump): what is wrong and what a good value is.
		{[]string{"lb", "--addresses", "127.240.0.0/33"}, `error: --addresses entry 1: "127.240.0.0/33" is not a CIDR (prefix length out of range): want e.g.`, ""},
		{[]string{"storage", "--nfs-server", "bad host!", "--nfs-path", "/nfsroot"}, `error: --nfs-server: "bad host!" is neither an IP address nor a host name: a host name is at most 253 lowercase letters`, ""},
		{[]string{"kubeflow", "--version", "v1.10.2", "--ingress-service-type", "clusterip"}, `error: --ingress-service-type: invalid "clusterip": use LoadBalancer, NodePort or ClusterIP`, ""},
		// The uninstall commands check their flags before they read the cluster.
		{[]string{"kubeflow", "uninstall", "--dry-run=maybe"}, `error: invalid --dry-run "maybe": use none, client or server`, ""},
		{[]string{"lb", "uninstall", "-o", "xml"}, `error: unknown output format "xml": use -o with one of table|json|yaml`, ""},
		{[]string{"storage", "uninstall", "--timeout", "0s"}, "error: --timeout must be positive, e.g. --timeout 10m", ""},
		{[]string{"gpu", "uninstall", "extra"}, `error: unknown argument "extra" for "kubectl flexigrobots gpu uninstall"`, ""},
		{[]string{"tls", "uninstall", "--dry-run=maybe"}, `error: invalid --dry-run "maybe": use none, client or server`, ""},
		{[]string{"profile", "uninstall", "extra"}, `error: unknown argument "extra" for "kubectl flexigrobots profile uninstall"`, ""},
		{[]string{"delete"}, "error: -f is required: give the platform file that was applied, e.g. -f plugins.yaml", ""},
		{[]string{"delete", "-f", "plugins.yaml", "-o", "xml"}, `error: unknown output format "xml": use -o with one of table|json|yaml`, ""},
		{[]string{"export", "-o", "table"}, `error: unknown output format "table": use -o with one of yaml|json`, ""},
		{[]string{"kubeflow", "--plan", "--dry-run=server"}, "error: --plan changes nothing already: leave --dry-run and --diff out", ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runWithoutCluster(t, nil, tc.args...)
			if code != 2 {
				t.Fatalf("want exit 2, got %d\nstderr:\n%s", code, errOut.String())
			}
			first, _, _ := strings.Cut(errOut.String(), "\n")
			if !strings.HasPrefix(first, tc.firstLine) || !strings.Contains(errOut.String(), tc.more) || out.Len() != 0 {
				t.Fatalf("stderr:\n%s\nwant first line %q and %q, nothing on stdout (got %q)", errOut.String(), tc.firstLine, tc.more, out.String())
			}
		})
	}
}

// TestNoClusterConfigured: a kubeconfig that does not exist is one line that says so, exit 1, for
// every command that needs a cluster (not one "localhost:8080 refused" per check or object).
func TestNoClusterConfigured(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"verify"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"storage", "--nfs-server", "127.0.0.1", "--nfs-path", "/nfsroot"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"lb", "--addresses", "127.240.0.10/32"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"kubeflow"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"tls", "status"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"gpu", "status"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"profile", "poddefault", "--all-profiles"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=/nonexistent/kubeconfig"}, []string{"export"}, "kubeconfig /nonexistent/kubeconfig does not exist"},
		{nil, []string{"--kubeconfig", "/nonexistent/kubeconfig", "verify"}, "--kubeconfig /nonexistent/kubeconfig does not exist"},
		{[]string{"KUBECONFIG=", "HOME=" + t.TempDir()}, []string{"verify"}, "KUBECONFIG is not set"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runWithoutCluster(t, tc.env, tc.args...)
			if code != 1 {
				t.Fatalf("want exit 1, got %d\nstderr:\n%s", code, errOut.String())
			}
			lines := strings.Split(strings.TrimRight(errOut.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "no cluster is configured") || !strings.Contains(lines[0], tc.want) || out.Len() != 0 {
				t.Fatalf("want one stderr line saying %q, nothing on stdout; got stdout %q stderr:\n%s", tc.want, out.String(), errOut.String())
			}
		})
	}
}

// runWithoutCluster runs the plugin with a kubeconfig that does not exist (and env on top) and
// returns what it printed and its exit code.
func runWithoutCluster(t *testing.T, env []string, args ...string) (stdout, stderr *bytes.Buffer, code int) {
	t.Helper()
	cmd := exec.Command(testbed.PluginBinary(t), args...)
	cmd.Env = append(append(os.Environ(), "KUBECONFIG=/nonexistent/kubeconfig"), env...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return stdout, stderr, ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return stdout, stderr, 0
}

// TestKubectlCompletesThePlugin: with the plugin and its kubectl_complete-flexigrobots helper on
// PATH (where `make build` puts them side by side), kubectl's own completion of `kubectl
// flexigrobots <TAB>` lists the plugin's commands and completes flag values.
func TestKubectlCompletesThePlugin(t *testing.T) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	kubectlDir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	repo := testbed.ChartRepo(t)
	for name, src := range map[string]string{
		"kubectl-flexigrobots":          testbed.PluginBinary(t),
		"kubectl_complete-flexigrobots": filepath.Join(root, "hack", "kubectl_complete-flexigrobots"),
	} {
		if err := os.Symlink(src, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{""}, []string{"storage", "kubeflow", "verify"}},
		{[]string{"gpu", ""}, []string{"slicing", "operator", "status"}},
		{[]string{"kubeflow", "-o", ""}, []string{"table", "json", "yaml"}},
		{[]string{"kubeflow", "--version", ""}, []string{"v1.5.0", "v1.10.2"}},
		{[]string{"verify", "--section", ""}, []string{"cluster", "kubeflow", "profiles"}},
		{[]string{"lb", "--dry-run="}, []string{"server", "client"}},
		// Chart versions come from the repository's index (the fixture charts served on loopback).
		{[]string{"lb", "--chart-repo", repo, "--chart-version", ""}, []string{"0.15.3", "0.14.3"}},
		{[]string{"gpu", "operator", "--chart-repo", repo, "--chart-version", ""}, []string{"v26.7.0"}},
	} {
		cmd := exec.Command(filepath.Join(kubectlDir, "kubectl"), append([]string{"__complete", "flexigrobots"}, tc.words...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG=/nonexistent/kubeconfig",
			"XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("kubectl __complete flexigrobots %v: %v", tc.words, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), "\n"+w) && !strings.HasPrefix(string(out), w) {
				t.Errorf("kubectl flexigrobots %v<TAB> does not offer %q:\n%s", tc.words, w, out)
			}
		}
	}
}

// TestVerifyUnreachableServer: an API server that does not answer (a loopback port nothing
// listens on) is one error, CLUSTER-001's; every other check is skipped as a note.
func TestVerifyUnreachableServer(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: down, context: {cluster: down, user: u}}]
current-context: down
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runWithoutCluster(t, []string{"KUBECONFIG=" + kubeconfig}, "verify", "-o", "json")
	var rep verify.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || code != 3 {
		t.Fatalf("want exit 3 and a report, got %d (%v)\nstderr:\n%s", code, err, errOut.String())
	}
	for _, r := range rep.Results {
		switch {
		case r.ID == "CLUSTER-001":
			if r.Severity != checks.Error || !strings.Contains(r.Message, "not reachable") {
				t.Errorf("CLUSTER-001: %s %s", r.Severity, r.Message)
			}
		case r.Severity != checks.Info || !strings.Contains(r.Message, "see CLUSTER-001"):
			t.Errorf("%s: %s %s, want it skipped", r.ID, r.Severity, r.Message)
		}
	}
}

// TestRBACPrintsTheRoleWithoutACluster: `rbac` needs no cluster (nothing is read or written),
// prints one ClusterRole with the named sections' rules, and an unknown section is exit 2.
func TestRBACPrintsTheRoleWithoutACluster(t *testing.T) {
	out, errOut, code := runWithoutCluster(t, nil, "rbac", "verify", "profiles", "--name", "r", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var role struct {
		Kind     string
		Metadata struct{ Name string }
		Rules    []struct{ APIGroups, Resources, Verbs []string }
	}
	if err := json.Unmarshal(out.Bytes(), &role); err != nil || role.Kind != "ClusterRole" || role.Metadata.Name != "r" {
		t.Fatalf("not a ClusterRole named r (%v):\n%s", err, out)
	}
	var poddefaults, secretsList bool
	for _, r := range role.Rules {
		for _, res := range r.Resources {
			poddefaults = poddefaults || (res == "poddefaults" && slices.Contains(r.Verbs, "patch"))
			secretsList = secretsList || (res == "secrets" && slices.Contains(r.Verbs, "list"))
		}
	}
	if !poddefaults || secretsList {
		t.Fatalf("want profiles' poddefaults patch and no list of Secrets (verify reads them by name):\n%s", out)
	}
	if _, errOut, code := runWithoutCluster(t, nil, "rbac", "monitoring"); code != 2 || !strings.Contains(errOut.String(), `unknown section "monitoring"`) {
		t.Fatalf("unknown section: exit %d %s", code, errOut)
	}
}

// TestVersionWithoutCluster: `version`, the README's first command, with no kubeconfig prints the
// plugin's version and then, as every other command does, the one line that says no cluster is
// configured and where it looked (not client-go's dial error), exit 1.
func TestVersionWithoutCluster(t *testing.T) {
	for _, env := range [][]string{{"KUBECONFIG=/nonexistent/kubeconfig"}, {"KUBECONFIG=", "HOME=" + t.TempDir()}} {
		out, errOut, code := runWithoutCluster(t, env, "version")
		lines := strings.Split(strings.TrimRight(errOut.String(), "\n"), "\n")
		if code != 1 || !strings.HasPrefix(out.String(), "Plugin Version: ") || len(lines) != 1 ||
			!strings.Contains(lines[0], "no cluster is configured") || !strings.Contains(lines[0], "--client") || strings.Contains(lines[0], "dial tcp") {
			t.Errorf("%v version: exit %d\nstdout:\n%s\nstderr:\n%s", env, code, out.String(), errOut.String())
		}
	}
}
