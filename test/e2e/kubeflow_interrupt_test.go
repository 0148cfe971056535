package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestKubeflowInterrupted: Ctrl-C in the middle of the apply ends `kubeflow` with exit 130 and
// one line saying how far it got (not one "context canceled" per object), SIGTERM with 143; the
// cluster is left re-runnable: the next run converges and the one after is unchanged.
func TestKubeflowInterrupted(t *testing.T) {
	url := kubeflowArchiveURL(t, "1.10.2")
	c := testbed.StartT(t, testbed.Options{StandIns: []testbed.StandIn{standins.NewNFSProvisioner()}})
	nfsStandInStorage(t, c)
	args := []string{"kubeflow", "--manifests", url, "--version", "v1.10.2", "--wait=false"}

	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(testbed.PluginBinary(t), args...)
		cmd.Env = c.Env("NO_COLOR=1")
		out, errOut := &lockedBuffer{}, &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, errOut
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once the apply is under way: some objects applied, most not yet.
		progress := regexp.MustCompile(`kubeflow: applied ([0-9]+) of ([0-9]+) objects`)
		err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 5*time.Minute, true, func(context.Context) (bool, error) {
			m := progress.FindAllStringSubmatch(errOut.String(), -1)
			return len(m) > 0 && m[len(m)-1][1] != "0", nil
		})
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("the apply never started: %s", errOut.String())
		}
		before := len(errOut.String())
		_ = cmd.Process.Signal(tc.sig)
		err = cmd.Wait()
		after := strings.TrimRight(errOut.String()[before:], "\n")
		t.Logf("%v -> %v; stderr after the signal:\n%s", tc.sig, err, after)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != tc.code {
			t.Fatalf("%v: want exit %d, got %v", tc.sig, tc.code, err)
		}
		lines := strings.Split(after, "\n")
		last := lines[len(lines)-1]
		if len(lines) > 5 || !regexp.MustCompile(`^error: kubeflow: .*interrupted with [0-9]+ of [0-9]+ objects applied .*re-run to continue`).MatchString(last) {
			t.Fatalf("%v: want at most 5 lines ending in one saying how far the apply got, got %d:\n%s", tc.sig, len(lines), after)
		}
		if strings.Contains(after, "context canceled") {
			t.Fatalf("%v: the per-object cancellations were printed:\n%s", tc.sig, after)
		}
	}

	r := runPlugin(t, c, args...)
	if r.code != 0 {
		t.Fatalf("the run after the interruptions: exit %d\n%s", r.code, r.stderr)
	}
	r = runPlugin(t, c, append(args, "-o", "json")...)
	if rep := kfReport(t, r); r.code != 0 || rep.Changed() {
		t.Fatalf("the run after that: exit %d, changed %v", r.code, rep.Changed())
	}
}

// TestRenderInterruptedDuringTheBuild: Ctrl-C while the manifests are being built (seconds in
// kustomize's API, which takes no context) stops `kubeflow render` with exit 130 and no YAML on
// stdout, instead of printing the build once it is done.
func TestRenderInterruptedDuringTheBuild(t *testing.T) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	archive := root + "/../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz"
	if _, err := os.Stat(archive); err != nil {
		t.Skipf("fixture absent: %v", err)
	}
	cmd := exec.Command(testbed.PluginBinary(t), "kubeflow", "render", "--version", "v1.10.2", "--manifests", archive, "--no-cache")
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent/kubeconfig", "XDG_CACHE_HOME="+t.TempDir(), "NO_COLOR=1")
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return strings.Contains(errOut.String(), "loading and building"), nil
	})
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("the build never started: %s", errOut.String())
	}
	time.Sleep(time.Second) // into the build (it takes several seconds)
	_ = cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("want exit 130, got %v\n%s", err, errOut.String())
	}
	if out.String() != "" {
		t.Fatalf("render printed %d bytes after Ctrl-C", len(out.String()))
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted:\n%s", errOut.String())
	}
}
