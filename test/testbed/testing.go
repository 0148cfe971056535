package testbed

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// StartT starts a test bed for t and stops it when t ends. When t failed, the folder with every
// process log is kept and printed; otherwise it is removed. Under -short the test is skipped
// (unit runs only), since the test bed needs the control-plane binaries of `make testbin`.
func StartT(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test on the simulated cluster: skipped under -short (runs in make test)")
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start test bed: %v", err)
	}
	t.Cleanup(func() {
		c.Stop()
		if t.Failed() {
			t.Logf("test bed logs kept in %s", c.Dir)
			return
		}
		os.RemoveAll(c.Dir)
	})
	return c
}

var (
	pluginOnce sync.Once
	pluginBin  string
	pluginErr  error
)

// PluginBinary builds cmd/kubectl-flexigrobots once per test process (or uses $PLUGIN_BIN) and
// returns its path. The binary is named kubectl-flexigrobots so kubectl's plugin discovery finds
// it when its folder is on PATH.
func PluginBinary(t testing.TB) string {
	t.Helper()
	pluginOnce.Do(func() {
		if p := os.Getenv("PLUGIN_BIN"); p != "" {
			pluginBin = p
			return
		}
		root, err := ModuleRoot()
		if err != nil {
			pluginErr = err
			return
		}
		dir, err := os.MkdirTemp("", "flexigrobots-plugin-")
		if err != nil {
			pluginErr = err
			return
		}
		pluginBin = filepath.Join(dir, "kubectl-flexigrobots")
		cmd := exec.Command("go", "build", "-o", pluginBin, "./cmd/kubectl-flexigrobots")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			pluginErr = &buildError{out: string(out), err: err}
		}
	})
	if pluginErr != nil {
		t.Fatalf("build plugin: %v", pluginErr)
	}
	return pluginBin
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// Kubectl returns the kubectl built with the test bed binaries (same version as the v1.37 server),
// for tests and benchmarks that compare with what a user would run by hand.
func Kubectl(t testing.TB) string {
	t.Helper()
	dir, err := FindBinDir(V137)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "kubectl")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("kubectl missing in %s: run `make testbin`", dir)
	}
	return p
}
