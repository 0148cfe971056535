// Command platformbench times the whole platform built with `kubectl flexigrobots apply -f`
// against the runbook's commands, each side alone on its own fresh Kubernetes 1.37 test bed
// (with the stand-ins of the e2e tests, admission webhooks on), first install and no-op re-run:
//
//	go run ./bench/platformbench --plugin bin/kubectl-flexigrobots
//
// Ours is the plugin binary as a user runs it: `apply -f plugins.yaml` with its defaults (the
// readiness wait included), with an empty cache, so the first run includes the Kubeflow
// download, the kustomize build, chart downloads and every preflight. Theirs is the runbook as a script (see runbook.go): the
// Kubeflow manifests fetched from the same local URL and built with `kubectl kustomize example`,
// helm install x3 with the kubectl steps between them, and `kubectl apply --server-side` of the
// Kubeflow build again until it succeeds. The file they apply is made before the clock starts
// (`kubectl flexigrobots kubeflow render` with the runbook's edits: the same objects as ours
// minus the converge-owned Secrets); their timed kustomize build stands for the runbook's build
// and sed edits. The runbook has no wait (its user looks at `kubectl get pods`), so ours does
// more on the clock. The re-run is the same command (five times in a row) or script (once)
// again (the runbook's re-run builds again, but keeps its clone). Each figure gives the wall
// time, the machine's CPU time and the command's own (its process and children).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func main() {
	plugin := flag.String("plugin", "bin/kubectl-flexigrobots", "the plugin binary (make build)")
	fixtures := flag.String("fixtures", testbed.DefaultFixturesDir(), "the fixtures folder (charts/, kubeflow/)")
	pairs := flag.Int("pairs", 1, "how many (ours, theirs) pairs to run; the median is printed")
	flag.Parse()
	if err := run(*plugin, *fixtures, *pairs); err != nil {
		fmt.Fprintln(os.Stderr, "platformbench:", err)
		os.Exit(1)
	}
}

func run(plugin, fixtures string, pairs int) error {
	plugin, err := filepath.Abs(plugin)
	if err != nil {
		return err
	}
	if fixtures == "" {
		return fmt.Errorf("no fixtures folder: give --fixtures")
	}
	var oursFirst, theirsFirst, oursAgain, theirsAgain []benchkit.Sample
	for i := 0; i < pairs; i++ {
		f, r, err := side(fixtures, oursReruns, func(b *bed) func() error { return b.ours(plugin) })
		if err != nil {
			return fmt.Errorf("apply -f: %w", err)
		}
		oursFirst, oursAgain = append(oursFirst, f), append(oursAgain, r...)
		tf, tr, err := side(fixtures, 1, func(b *bed) func() error { return b.runbook(plugin) })
		if err != nil {
			return fmt.Errorf("runbook: %w", err)
		}
		theirsFirst, theirsAgain = append(theirsFirst, tf), append(theirsAgain, tr...)
		fmt.Printf("pair %d: apply -f first %s, re-runs %s | runbook first %s, re-run %s\n",
			i+1, f.WithOwn(), benchkit.Spread(r), tf.WithOwn(), benchkit.Spread(tr))
	}
	of, or := benchkit.Median(oursFirst), benchkit.Median(oursAgain)
	tf, tr := benchkit.Median(theirsFirst), benchkit.Median(theirsAgain)
	fmt.Printf("apply -f (whole command with its defaults, --wait included; download and build included):\n  first %s\n  no-op re-run %s\n", of.WithOwn(), benchkit.Spread(oursAgain))
	fmt.Printf("runbook (fetch + kubectl kustomize, helm x3 + kubectl steps, apply loop):\n  first %s\n  no-op re-run %s\n", tf.WithOwn(), benchkit.Spread(theirsAgain))
	fmt.Printf("ratio runbook/apply -f by wall: first %.2fx, re-run %.2fx (median of %d pair(s))\n", benchkit.Ratio(tf, of), benchkit.Ratio(tr, or), pairs)
	return nil
}

// oursReruns is how many no-op re-runs of ours each pair times, one after another right after
// the first install (the spread a script that re-runs sees); the runbook's re-run, 40-odd
// seconds, is timed once per pair.
const oursReruns = 5

// side starts a fresh bed, prepares the side's command on it (untimed), then times its first
// run and reruns re-runs.
func side(fixtures string, reruns int, prepare func(*bed) func() error) (first benchkit.Sample, again []benchkit.Sample, err error) {
	b, err := newBed(fixtures)
	if err != nil {
		return first, nil, err
	}
	defer b.stop()
	fn := prepare(b)
	if first, err = benchkit.Time(fn); err != nil {
		return first, nil, fmt.Errorf("first run: %w", err)
	}
	again, err = benchkit.Reruns("run", reruns, fn)
	return first, again, err
}

// bed is one fresh test bed with the e2e stand-ins, a chart repository and the Kubeflow archive
// served on loopback, and the files both sides read.
type bed struct {
	c     *testbed.Cluster
	dir   string
	repo  string
	kfURL string
	stops []func()
}

func newBed(fixtures string) (*bed, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "platformbench-")
	if err != nil {
		return nil, err
	}
	b := &bed{dir: dir}
	b.stops = append(b.stops, func() { os.RemoveAll(dir) })
	if b.c, err = testbed.Start(ctx, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{
		standins.NewNFSProvisioner(), standins.NewMetalLBController(), standins.NewGPUDevicePlugin(), standins.NewProfileController(),
		standins.NewAdmissionWebhooks(benchkit.WebhookDelay),
	}}); err != nil {
		b.stop()
		return nil, err
	}
	b.stops = append(b.stops, func() { benchkit.StopBed(b.c) })
	charts := filepath.Join(dir, "charts")
	if err := os.MkdirAll(charts, 0o755); err != nil {
		b.stop()
		return nil, err
	}
	url, stop, err := testbed.ServeChartDir(filepath.Join(fixtures, "charts"), charts)
	if err != nil {
		b.stop()
		return nil, err
	}
	b.repo = url
	b.stops = append(b.stops, stop)
	kf, stop, err := benchkit.ServeFile(filepath.Join(fixtures, "kubeflow", "manifests-1.10.2.tar.gz"), "/v1.10.2.tar.gz")
	if err != nil {
		b.stop()
		return nil, err
	}
	b.kfURL = kf
	b.stops = append(b.stops, stop)
	if err := b.writeFiles(); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

func (b *bed) stop() {
	for i := len(b.stops) - 1; i >= 0; i-- {
		b.stops[i]()
	}
}

// env isolates each side's caches and configuration in the bed's folder (a cold first run).
func (b *bed) env() []string {
	return append(os.Environ(), "KUBECONFIG="+b.c.Kubeconfig, "HOME="+b.dir, "XDG_CACHE_HOME="+filepath.Join(b.dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"), "XDG_DATA_HOME="+filepath.Join(b.dir, "data"))
}

// ours is `kubectl flexigrobots apply -f plugins.yaml` with its defaults (--wait included).
func (b *bed) ours(plugin string) func() error {
	run := 0
	return func() error {
		cmd := exec.Command(plugin, "apply", "-f", filepath.Join(b.dir, "plugins.yaml"))
		cmd.Env = b.env()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			return fmt.Errorf("apply -f: %w: %s", err, strings.Join(lines[max(0, len(lines)-8):], "\n"))
		}
		run++
		// The phase figures: apply's own summary (section, result, changed, time).
		fmt.Printf("apply -f run %d, per section:\n%s", run, out)
		return nil
	}
}
