package e2e

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestSimCtrlCLeavesNoProcess runs `make sim` as a person does, waits for its export line, sends
// the SIGINT a terminal's Ctrl-C sends to the whole foreground process group (make included),
// and checks that make reports no error, that no process that used the sim's folder is left and
// that nothing is left in the temp folder.
func TestSimCtrlCLeavesNoProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the test bed: skipped under -short")
	}
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// No --dir: the sim picks a folder in the temp folder (TMPDIR, here one of the test's own),
	// and must leave nothing there after Ctrl-C.
	dir := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "sim")
	cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a terminal's foreground group of its own
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctrlC := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	// make echoes its recipe lines first; the sim's export line follows once the bed is up.
	lines := bufio.NewScanner(stdout)
	var export string
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "export KUBECONFIG=") {
			export = lines.Text()
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if !strings.HasPrefix(export, "export KUBECONFIG="+dir) {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatalf("make sim printed %q, want an export KUBECONFIG line under %s", export, dir)
	}
	if n := processesUsing(dir); n == 0 {
		t.Fatal("no control-plane process found using the sim folder before Ctrl-C")
	}
	ctrlC()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		t.Fatal("make sim did not stop within 60s of Ctrl-C")
	}
	// make itself got the SIGINT too, so it ends by that signal (the shell's 130), silently.
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "make: ***") || strings.HasPrefix(l, "make[1]: ***") {
			t.Errorf("make reported the Ctrl-C as an error: %q", l)
		}
	}
	if !strings.Contains(stderr.String(), "sim: stopped; removed ") {
		t.Errorf("the sim did not say it stopped and removed its folder; stderr:\n%s", stderr.String())
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
