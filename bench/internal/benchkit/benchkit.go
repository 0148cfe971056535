// Package benchkit holds what the benchmarks share: fresh test beds and the kubectl side of a
// comparison, run the runbook's way.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// WebhookDelay is how long after its first Ready pod a webhook backend of the stand-in starts
// answering, as in the e2e tests.
const WebhookDelay = 3 * time.Second

// StartBed starts a fresh default test bed with admission webhooks on and their backends
// served by the stand-in (each once its workload is Ready, plus WebhookDelay); with
// defaultClass it also gets a default StorageClass (what Kubeflow's preflight asks for). Stop it
// with StopBed.
func StartBed(defaultClass bool) (*testbed.Cluster, *standins.AdmissionWebhooks, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	hooks := standins.NewAdmissionWebhooks(WebhookDelay)
	c, err := testbed.Start(ctx, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{hooks}})
	if err != nil {
		return nil, nil, err
	}
	if !defaultClass {
		return c, hooks, nil
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "example.com/none",
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		StopBed(c)
		return nil, nil, err
	}
	return c, hooks, nil
}

// StartUserBed starts a fresh bed as a user's cluster looks to a command that waits for
// readiness: admission webhooks on with their backends served, and every stand-in of the e2e
// tests (NFS provisioner, MetalLB, GPU device plugin, profile controller, cert-manager), so the
// workloads a command applies get Ready. It has no StorageClass: give one as the runbook does
// (StorageFromPlugin).
func StartUserBed() (*testbed.Cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	return testbed.Start(ctx, testbed.Options{Webhooks: true,
		StandIns: append(standins.All(), standins.NewAdmissionWebhooks(WebhookDelay))})
}

// StorageFromPlugin installs the runbook's NFS storage (the default StorageClass the Kubeflow
// claims bind through) on c with the plugin's storage command and the fixtures' chart, before
// any clock starts; env isolates the caller's caches.
func StorageFromPlugin(plugin string, c *testbed.Cluster, env []string) error {
	fixtures := testbed.DefaultFixturesDir()
	if fixtures == "" {
		return fmt.Errorf("the chart fixtures (../shared/fixtures) are not there")
	}
	work, err := os.MkdirTemp("", "bench-charts-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	url, stop, err := testbed.ServeChartDir(filepath.Join(fixtures, "charts"), work)
	if err != nil {
		return err
	}
	defer stop()
	cmd := exec.Command(plugin, "--kubeconfig", c.Kubeconfig, "storage", "--nfs-server", "127.0.0.1", "--nfs-path", "/nfsroot/kubeflow_nfs", "--chart-repo", url)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("storage: %w: %s", err, out)
	}
	return nil
}

// StopBed stops the test bed and removes its folder.
func StopBed(c *testbed.Cluster) {
	c.Stop()
	os.RemoveAll(c.Dir)
}

// Sample is one timed run: its wall time and the CPU time the whole machine spent meanwhile
// (API server, etcd, controllers and the client together; the test bed's 2 cores are the limit
// for a big apply, so CPU-seconds show how much work each tool makes the cluster do).
type Sample struct {
	Wall time.Duration
	// CPU is machine-wide busy CPU-seconds from /proc/stat; negative where unavailable.
	CPU float64
	// Own is the CPU-seconds of the timed processes alone (user and system time of the
	// children fn started and waited for: the plugin, or the script with its kubectl and helm).
	Own float64
}

// String prints the sample as "12.34s (20.1 CPU-s)".
func (s Sample) String() string {
	if s.CPU < 0 {
		return fmt.Sprintf("%6.2fs", s.Wall.Seconds())
	}
	return fmt.Sprintf("%6.2fs (%5.1f CPU-s)", s.Wall.Seconds(), s.CPU)
}

// Time runs fn and samples its wall time and the machine's CPU time.
func Time(fn func() error) (Sample, error) {
	cpu0, own0 := machineCPU(), childrenCPU()
	start := time.Now()
	err := fn()
	s := Sample{Wall: time.Since(start), CPU: -1, Own: childrenCPU() - own0}
	if cpu0 >= 0 {
		s.CPU = machineCPU() - cpu0
	}
	return s, err
}

// childrenCPU is the user and system CPU-seconds of this process's children that ended and were
// waited for (the test bed's processes run on, so only what a timed fn started counts).
func childrenCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// WithOwn prints the sample with its own CPU: "0.91s (1.6 CPU-s, 0.79 its own)".
func (s Sample) WithOwn() string {
	return fmt.Sprintf("%.2fs (%.1f CPU-s, %.2f its own)", s.Wall.Seconds(), s.CPU, s.Own)
}

// Spread prints the median of samples with their range of wall times and own CPU.
func Spread(samples []Sample) string {
	walls := make([]float64, len(samples))
	owns := make([]float64, len(samples))
	for i, x := range samples {
		walls[i], owns[i] = x.Wall.Seconds(), x.Own
	}
	return fmt.Sprintf("%s, %d runs: %.2f-%.2fs, its own %.2f-%.2f CPU-s", Median(samples).WithOwn(), len(samples),
		slices.Min(walls), slices.Max(walls), slices.Min(owns), slices.Max(owns))
}

// machineCPU is the machine's busy CPU-seconds since boot (all but idle and iowait), from
// /proc/stat; -1 where that is not available.
func machineCPU() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return -1
	}
	var ticks float64
	for i, f := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return -1
		}
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// FirstAndRerun times fn twice in a row: the first apply and the no-op re-run.
func FirstAndRerun(what string, fn func() error) (first, rerun Sample, err error) {
	if first, err = Time(fn); err != nil {
		return first, rerun, fmt.Errorf("%s first run: %w", what, err)
	}
	if rerun, err = Time(fn); err != nil {
		return first, rerun, fmt.Errorf("%s re-run: %w", what, err)
	}
	return first, rerun, nil
}

// Reruns times fn n times in a row (the spread of a no-op re-run).
func Reruns(what string, n int, fn func() error) ([]Sample, error) {
	var out []Sample
	for i := range n {
		s, err := Time(fn)
		if err != nil {
			return out, fmt.Errorf("%s re-run %d: %w", what, i+1, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Ratio is how many times faster b is than a, by wall time.
func Ratio(a, b Sample) float64 { return a.Wall.Seconds() / b.Wall.Seconds() }

// TimeKubectl applies file with `kubectl apply --server-side --force-conflicts` on a fresh test
// bed the runbook's way, again until it succeeds (at once, at most 10 passes, all counted), then
// once more as the no-op re-run.
func TimeKubectl(file string, defaultClass bool) (first Sample, passes int, rerun Sample, err error) {
	dir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return first, 0, rerun, err
	}
	kubectl := filepath.Join(dir, "kubectl")
	c, _, err := StartBed(defaultClass)
	if err != nil {
		return first, 0, rerun, err
	}
	defer StopBed(c)
	apply := func() error {
		cmd := exec.Command(kubectl, "--kubeconfig", c.Kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", file)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd.Run()
	}
	first, err = Time(func() error {
		for passes = 1; ; passes++ {
			err := apply()
			if err == nil {
				return nil
			}
			if passes == 10 {
				return fmt.Errorf("kubectl apply still failing after 10 passes: %w", err)
			}
		}
	})
	if err != nil {
		return first, passes, rerun, err
	}
	if rerun, err = Time(apply); err != nil {
		return first, passes, rerun, fmt.Errorf("kubectl re-run: %w", err)
	}
	return first, passes, rerun, nil
}

// Median is the sample of median wall time (the upper one of an even count).
func Median(s []Sample) Sample {
	c := slices.Clone(s)
	slices.SortFunc(c, func(a, b Sample) int { return int(a.Wall - b.Wall) })
	return c[len(c)/2]
}

// ServeFile serves the file at path on 127.0.0.1 under urlPath and returns its URL and a
// function that stops the server.
func ServeFile(path, urlPath string) (string, func(), error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(data) }))
	return srv.URL + urlPath, srv.Close, nil
}
