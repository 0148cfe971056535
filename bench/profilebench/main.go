// Command profilebench measures `profile poddefault --all-profiles` and `verify` at scale: a test
// bed with 100 simulated nodes (kwok), a Kubeflow v1.10.2 install and 500 profile namespaces
// (made as Kubeflow's profile controller makes them), against the runbook's way, the shell loop
// of create_PodDefault.sh (sed the namespace into 040-pod_default_multiuser.yaml, kubectl apply -f
// -) per namespace, each side on its own fresh test bed:
//
//	go run ./bench/profilebench [--manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz] [--plugin bin/kubectl-flexigrobots]
//
// The plugin and kubectl are run as a user runs them (processes, cold discovery cache). The
// install of Kubeflow, nodes and namespaces is not timed. It prints the first run and the no-op
// re-run of each side and their ratios, then `verify`'s wall time (all sections) and the API
// requests of `verify` and of the no-op re-run by verb and resource (counted in-process on the
// same command code).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	plugprofile "github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func main() {
	manifests := flag.String("manifests", "../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz", "Kubeflow v1.10.2 manifests archive")
	profiles := flag.Int("profiles", 500, "profile namespaces")
	nodes := flag.Int("nodes", 100, "simulated nodes in all")
	plugin := flag.String("plugin", "", "plugin binary to time (default: built from this checkout, as `make build` does)")
	flag.Parse()
	if err := run(*manifests, *plugin, *profiles, *nodes); err != nil {
		fmt.Fprintln(os.Stderr, "profilebench:", err)
		os.Exit(1)
	}
}

func run(archive, bin string, profiles, nodes int) error {
	ctx := context.Background()
	p, err := kubeflow.ProfileFor("v1.10.2")
	if err != nil {
		return err
	}
	built, err := kubeflow.Build(ctx, p, kubeflow.Source{Manifests: archive}, kubeflow.Edits{RegistrationFlow: true, IngressServiceType: "LoadBalancer"})
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "profilebench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if bin == "" {
		if bin, err = buildPlugin(tmp); err != nil {
			return err
		}
	}
	fmt.Printf("bed: %d nodes, Kubeflow v1.10.2 (%d objects), %d profile namespaces\n", nodes, len(built.Objects), profiles)

	// The plugin's side.
	c, err := preparedBed(built, profiles, nodes)
	if err != nil {
		return err
	}
	cache := filepath.Join(tmp, "plugin-cache")
	poddefault := func() error {
		_, err := runBin(bin, c, "--cache-dir", cache, "profile", "poddefault", "--all-profiles")
		return err
	}
	pFirst, pRerun, err := benchkit.FirstAndRerun("profile poddefault --all-profiles", poddefault)
	if err != nil {
		benchkit.StopBed(c)
		return err
	}
	vSample, vErr := benchkit.Time(func() error {
		_, err := runBin(bin, c, "--cache-dir", cache, "verify", "-o", "json")
		return err
	})
	verifyCount, verifyWall, vcErr := inProcess(c, func(f *kube.Factory, s genericiooptions.IOStreams) *cobra.Command {
		return verify.NewCmdVerify(f, s)
	}, "-o", "json")
	rerunCount, _, rcErr := inProcess(c, plugprofile.NewCmdPodDefault, "--all-profiles")
	benchkit.StopBed(c)
	for _, e := range []error{vErr, vcErr, rcErr} {
		if e != nil && !isCheckExit(e) {
			return e
		}
	}

	// The runbook's way, on a fresh bed of its own.
	kFirst, kRerun, err := timeShellLoop(tmp, built, profiles, nodes)
	if err != nil {
		return err
	}

	fmt.Printf("profile poddefault --all-profiles  first run: %s   no-op re-run: %s\n", pFirst, pRerun)
	fmt.Printf("runbook loop (sed | kubectl apply) first run: %s   no-op re-run: %s   (%d kubectl processes each)\n", kFirst, kRerun, profiles)
	fmt.Printf("ratio loop/plugin: first %.1fx, re-run %.1fx\n", benchkit.Ratio(kFirst, pFirst), benchkit.Ratio(kRerun, pRerun))
	fmt.Printf("verify (all sections, %d profile namespaces, %d nodes): %s as a process; %.2fs in-process, %d requests:\n%s",
		profiles, nodes, vSample, verifyWall.Seconds(), verifyCount.total(), verifyCount)
	fmt.Printf("per-object GETs in verify: %v\n", verifyCount.perObjectGets())
	fmt.Printf("profile poddefault --all-profiles no-op re-run, %d requests:\n%s", rerunCount.total(), rerunCount)
	return nil
}

// buildPlugin builds the plugin binary into dir, as `make build` does.
func buildPlugin(dir string) (string, error) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kubectl-flexigrobots")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/kubectl-flexigrobots")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build plugin: %v: %s", err, out)
	}
	return bin, nil
}

// runBin runs the plugin binary against c; exit code 3 or 4 of verify is a result, not an error.
func runBin(bin string, c *testbed.Cluster, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "NO_COLOR=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && (ee.ExitCode() == 3 || ee.ExitCode() == 4) {
		return out.String(), nil
	}
	if err != nil {
		return out.String(), fmt.Errorf("%v: %v: %s", args, err, lastLines(errOut.String()))
	}
	return out.String(), nil
}

// inProcess runs a command built on a factory whose REST config counts every request.
func inProcess(c *testbed.Cluster, newCmd func(*kube.Factory, genericiooptions.IOStreams) *cobra.Command, args ...string) (*requestCounter, time.Duration, error) {
	rc := newRequestCounter()
	flags := c.ConfigFlags()
	flags.WrapConfigFn = rc.wrap
	var errOut bytes.Buffer
	cmd := newCmd(kube.NewFactory(flags), genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut})
	cmd.SetArgs(args)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	begin := time.Now()
	err := cmd.ExecuteContext(context.Background())
	return rc, time.Since(begin), err
}

func isCheckExit(err error) bool {
	e, ok := err.(*core.ExitError)
	return ok && (e.Code == core.ExitFailed || e.Code == core.ExitWarnings)
}

// timeShellLoop times the runbook's create_PodDefault.sh per namespace, twice, on a fresh bed.
func timeShellLoop(tmp string, built *kubeflow.Built, profiles, nodes int) (first, rerun benchkit.Sample, err error) {
	dir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return first, rerun, err
	}
	c, err := preparedBed(built, profiles, nodes)
	if err != nil {
		return first, rerun, err
	}
	defer benchkit.StopBed(c)
	manifest := filepath.Join(tmp, "040-pod_default_multiuser.yaml")
	if err := os.WriteFile(manifest, []byte(testbed.RunbookPodDefault), 0o644); err != nil {
		return first, rerun, err
	}
	list := filepath.Join(tmp, "namespaces.txt")
	if err := os.WriteFile(list, []byte(strings.Join(profileNames(profiles), "\n")+"\n"), 0o644); err != nil {
		return first, rerun, err
	}
	script := fmt.Sprintf(`while read ns; do sed "s/<YOUR_USER_PROFILE_NAMESPACE>/$ns/" %q | %q --cache-dir %q apply -f - >/dev/null || exit 1; done < %q`,
		manifest, filepath.Join(dir, "kubectl"), filepath.Join(tmp, "kubectl-cache"), list)
	loop := func() error {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "KUBECONFIG="+c.Kubeconfig)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%v: %s", err, lastLines(errOut.String()))
		}
		return nil
	}
	return benchkit.FirstAndRerun("runbook loop", loop)
}

func lastLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}
