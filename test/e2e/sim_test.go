package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestSimCtrlCLeavesNoProcess runs the `make sim` program, waits for its export line, sends the
// SIGINT a terminal's Ctrl-C sends, and checks that no process that used its folder is left.
func TestSimCtrlCLeavesNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test bed: skipped under -short")
	}
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "sim")
	if out, err := exec.Command("go", "build", "-C", root, "-o", bin, "./test/cmd/sim").CombinedOutput(); err != nil {
		t.Fatalf("build sim: %v\n%s", err, out)
	}
	// No --dir: the sim picks a folder in the temp folder (TMPDIR, here one of the test's own),
	// and must leave nothing there after Ctrl-C.
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "export KUBECONFIG="+dir) {
		cmd.Process.Kill()
		t.Fatalf("sim printed %q, want an export KUBECONFIG line", line)
	}
	if n := processesUsing(dir); n == 0 {
		t.Fatal("no control-plane process found using the sim folder before Ctrl-C")
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("sim did not stop within 60s of Ctrl-C")
	}
	if n := processesUsing(dir); n != 0 {
		t.Fatalf("%d processes still use %s after Ctrl-C", n, dir)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("the sim left %d entries in the temp folder, e.g. %s", len(left), left[0].Name())
	}
}

// processesUsing counts live processes whose command line or working directory mentions dir.
func processesUsing(dir string) int {
	n := 0
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join("/proc", e.Name(), "cmdline")); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if strings.Contains(string(stat), ") Z ") {
			continue // zombie: already exited
		}
		if strings.Contains(string(cmdline), dir) || cwd == dir {
			n++
		}
	}
	return n
}
