package testbed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"time"
)

// sharedKey tells shared beds apart: one per version and admission-webhook setting.
type sharedKey struct {
	version  string
	webhooks bool
}

// sharedBed is one apiserver-only bed started on first use; err or skip say why it has none.
type sharedBed struct {
	once sync.Once
	c    *Cluster
	err  error
	skip string
}

var shared = struct {
	mu   sync.Mutex
	beds map[sharedKey]*sharedBed
}{beds: map[sharedKey]*sharedBed{}}

// SharedAPIServer returns the apiserver-only bed (APIServerOnly) for opts.Version and
// opts.Webhooks, started by the first caller in this test process and reused by every later one,
// so a package pays one start per version. Only Version and Webhooks are read; the other fields
// must be zero (stand-ins, folders and signing belong to a bed of one's own: StartT). Tests on a
// shared bed must keep to objects of their own and leave cluster-wide state as they found it.
//
// The test is skipped when the binaries are not built (hack/testbin.sh apiserver VERSION, or
// make testbin) and under -short; a bed that failed to start fails every caller with the same
// error. Call RunShared from the package's TestMain to stop the beds at the end of the run;
// without it their processes end with the test process (parent-death signal) and their folders
// stay in the temp dir.
func SharedAPIServer(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test on an apiserver-only bed: skipped under -short (runs in make test)")
	}
	if opts.Version == "" || opts.StandIns != nil || opts.Dir != "" || opts.BinDir != "" || opts.NoSigning || opts.Logf != nil {
		t.Fatalf("SharedAPIServer: set Version (and Webhooks) only, got %+v", opts)
	}
	key := sharedKey{opts.Version, opts.Webhooks}
	shared.mu.Lock()
	b := shared.beds[key]
	if b == nil {
		b = &sharedBed{}
		shared.beds[key] = b
	}
	shared.mu.Unlock()
	b.once.Do(func() {
		if _, err := FindAPIServerBinDir(opts.Version); err != nil {
			b.skip = err.Error()
			return
		}
		opts.APIServerOnly = true
		// Not t.Logf: the bed outlives the test that starts it.
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "testbed: "+format+"\n", args...) }
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		b.c, b.err = Start(ctx, opts)
	})
	switch {
	case b.skip != "":
		t.Skipf("apiserver-only bed %s not available: %s", opts.Version, b.skip)
	case b.err != nil:
		t.Fatalf("start shared apiserver-only bed %s: %v", opts.Version, b.err)
	}
	return b.c
}

// StopShared stops every bed SharedAPIServer started and forgets them. With keep their folders
// (kubeconfig, certificates, etcd data, logs) stay and are listed on stderr; otherwise they are
// removed.
func StopShared(keep bool) {
	shared.mu.Lock()
	beds := shared.beds
	shared.beds = map[sharedKey]*sharedBed{}
	shared.mu.Unlock()
	keys := make([]sharedKey, 0, len(beds))
	for k := range beds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].version < keys[j].version })
	var errs []error
	for _, k := range keys {
		c := beds[k].c
		if c == nil {
			continue
		}
		c.Stop()
		if keep {
			fmt.Fprintf(os.Stderr, "testbed: apiserver-only bed %s logs kept in %s\n", c.Version, c.Dir)
			continue
		}
		errs = append(errs, os.RemoveAll(c.Dir))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "testbed: remove shared bed folders: %v\n", err)
	}
}

// RunShared runs the package's tests and then stops the shared beds, keeping their folders when
// the run failed. Use it as the body of TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testbed.RunShared(m)) }
func RunShared(m *testing.M) int {
	code := m.Run()
	StopShared(code != 0)
	return code
}
