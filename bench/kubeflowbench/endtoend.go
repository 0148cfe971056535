package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The end-to-end comparison times each side as a user runs it, on its own fresh bed (admission
// webhooks on, every stand-in of the e2e tests, the runbook's NFS storage installed first), with the Kubeflow v1.10.2 archive served on loopback:
//
//   - ours: `kubectl flexigrobots kubeflow --manifests URL --registration-flow
//     --ingress-service-type LoadBalancer`, with its defaults (--wait included: the command returns
//     once the workloads are ready), the plugin binary with an empty user cache, so the first run
//     includes the download, the kustomize build, the preflight and the wait; then the same command
//     again reruns times right away (the no-op re-run as a script runs it, its build from the build
//     cache, the bed still settling); then reruns times more after the bed had settleFor to settle
//     (the settled figure); then once with the user cache deleted (the cache-cold no-op: download
//     and build again, nothing to apply).
//   - theirs: the runbook's commands as a script: fetch and untar the archive (first run only, the
//     clone is kept), `kubectl kustomize example` (every run, as the runbook builds before it
//     applies), then `kubectl apply --server-side --force-conflicts` again until it succeeds (a
//     failed pass retried after 0.2 s), then its re-run three times. The file it applies is
//     `kubeflow render --include-secrets` of the same edits, made before the clock starts: the
//     same objects as ours minus the Secrets our converge generates; the timed kustomize build
//     stands for the runbook's build and sed edits. The runbook has no wait (its user looks at
//     `kubectl get pods`), so ours does more on the clock.
const runbookKubeflow = `set -euo pipefail
until_ok() { for i in $(seq 1 300); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.2; done; "$@"; }
if [ ! -d manifests ]; then mkdir manifests.part && curl -fsSL "$KFURL" | tar xz -C manifests.part --strip-components 1 && mv manifests.part manifests; fi
(cd manifests && kubectl kustomize example >../kustomize-build.yaml 2>/dev/null)
until_ok kubectl apply --server-side --force-conflicts -f kubeflow.yaml
`

// e2eSamples are one side's figures of one pair.
type e2eSamples struct {
	first           benchkit.Sample
	reruns, settled []benchkit.Sample // no-op re-runs right after the install, and on a settled bed
	coldRerun       benchkit.Sample
}

const (
	reruns    = 5                // no-op re-runs timed in a row
	settleFor = 30 * time.Second // before the settled re-runs
)

// e2eBed is a fresh bed with the archive served and a folder for the side's files and caches.
type e2eBed struct {
	dir, kfURL string
	kubeconfig string
	stop       func()
}

func newE2EBed(plugin, archive string) (*e2eBed, error) {
	c, err := benchkit.StartUserBed()
	if err != nil {
		return nil, err
	}
	url, stopServe, err := benchkit.ServeFile(archive, "/v1.10.2.tar.gz")
	if err != nil {
		benchkit.StopBed(c)
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kubeflowbench-e2e-")
	if err != nil {
		stopServe()
		benchkit.StopBed(c)
		return nil, err
	}
	b := &e2eBed{dir: dir, kfURL: url, kubeconfig: c.Kubeconfig, stop: func() {
		stopServe()
		benchkit.StopBed(c)
		os.RemoveAll(dir)
	}}
	// The runbook's storage section first, on both sides (a command that waits needs the claims
	// bound); its chart download is removed with the rest of the caches.
	if err := benchkit.StorageFromPlugin(plugin, c, b.env()); err != nil {
		b.stop()
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(dir, "cache")); err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// env isolates the side's caches and configuration in the bed's folder (a cold first run).
func (b *e2eBed) env() []string {
	return append(os.Environ(), "KUBECONFIG="+b.kubeconfig, "HOME="+b.dir, "XDG_CACHE_HOME="+filepath.Join(b.dir, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(b.dir, "config"), "XDG_DATA_HOME="+filepath.Join(b.dir, "data"))
}

func (b *e2eBed) kubeflowArgs(extra ...string) []string {
	return append([]string{"kubeflow", "--version", "v1.10.2", "--manifests", b.kfURL, "--registration-flow", "--ingress-service-type", "LoadBalancer"}, extra...)
}

func run1(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s: %w: %s", filepath.Base(cmd.Path), err, strings.Join(lines[max(0, len(lines)-8):], "\n"))
	}
	return nil
}

// timeOursEndToEnd times the plugin's whole command: first install, no-op re-run, cache-cold no-op.
func timeOursEndToEnd(plugin, archive string) (s e2eSamples, err error) {
	b, err := newE2EBed(plugin, archive)
	if err != nil {
		return s, err
	}
	defer b.stop()
	converge := func() error {
		cmd := exec.Command(plugin, b.kubeflowArgs()...)
		cmd.Env = b.env()
		return run1(cmd)
	}
	if s.first, err = benchkit.Time(converge); err != nil {
		return s, fmt.Errorf("kubeflow first run: %w", err)
	}
	if s.reruns, err = benchkit.Reruns("kubeflow", reruns, converge); err != nil {
		return s, err
	}
	time.Sleep(settleFor)
	if s.settled, err = benchkit.Reruns("kubeflow (settled)", reruns, converge); err != nil {
		return s, err
	}
	if err := os.RemoveAll(filepath.Join(b.dir, "cache")); err != nil {
		return s, err
	}
	s.coldRerun, err = benchkit.Time(converge)
	return s, err
}

// timeRunbookEndToEnd times the runbook's way: first install and re-run (there is no cache to
// delete: its re-run builds again and keeps its clone, so its cold no-op is its re-run).
func timeRunbookEndToEnd(plugin, archive string) (s e2eSamples, err error) {
	b, err := newE2EBed(plugin, archive)
	if err != nil {
		return s, err
	}
	defer b.stop()
	render := exec.Command(plugin, append([]string{"kubeflow", "render", "--include-secrets"}, b.kubeflowArgs()[1:]...)...)
	render.Env = b.env()
	out, err := render.Output()
	if err == nil {
		err = os.WriteFile(filepath.Join(b.dir, "kubeflow.yaml"), out, 0o600)
	}
	if err != nil {
		return s, fmt.Errorf("kubeflow render: %w", err)
	}
	if err := os.RemoveAll(filepath.Join(b.dir, "cache")); err != nil { // render's download is ours, not theirs
		return s, err
	}
	bin, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return s, err
	}
	script := func() error {
		cmd := exec.Command("bash", "-c", runbookKubeflow)
		cmd.Dir = b.dir
		cmd.Env = append(b.env(), "PATH="+bin+":"+os.Getenv("PATH"), "KFURL="+b.kfURL)
		return run1(cmd)
	}
	if s.first, err = benchkit.Time(script); err != nil {
		return s, fmt.Errorf("runbook first run: %w", err)
	}
	s.reruns, err = benchkit.Reruns("runbook", 3, script)
	return s, err
}

// runEndToEnd runs pairs of (ours, theirs), each side alone on its own fresh bed, and prints
// every pair, then the medians and ratios.
func runEndToEnd(plugin, archive string, pairs int) error {
	var ours, theirs []e2eSamples
	for i := 1; i <= pairs; i++ {
		o, err := timeOursEndToEnd(plugin, archive)
		if err != nil {
			return fmt.Errorf("kubeflow (end to end): %w", err)
		}
		t, err := timeRunbookEndToEnd(plugin, archive)
		if err != nil {
			return fmt.Errorf("runbook (end to end): %w", err)
		}
		fmt.Printf("pair %d: kubeflow first %s, re-runs %s, settled %s, cache-cold %s | runbook first %s, re-runs %s\n",
			i, o.first.WithOwn(), benchkit.Spread(o.reruns), benchkit.Spread(o.settled), o.coldRerun.WithOwn(), t.first.WithOwn(), benchkit.Spread(t.reruns))
		ours, theirs = append(ours, o), append(theirs, t)
	}
	median := func(s []e2eSamples, f func(e2eSamples) benchkit.Sample) benchkit.Sample {
		var out []benchkit.Sample
		for _, x := range s {
			out = append(out, f(x))
		}
		return benchkit.Median(out)
	}
	all := func(s []e2eSamples, f func(e2eSamples) []benchkit.Sample) []benchkit.Sample {
		var out []benchkit.Sample
		for _, x := range s {
			out = append(out, f(x)...)
		}
		return out
	}
	first := func(x e2eSamples) benchkit.Sample { return x.first }
	cold := func(x e2eSamples) benchkit.Sample { return x.coldRerun }
	rerunsOf := func(x e2eSamples) []benchkit.Sample { return x.reruns }
	settledOf := func(x e2eSamples) []benchkit.Sample { return x.settled }
	of, oc, tf := median(ours, first), median(ours, cold), median(theirs, first)
	or, os_, tr := all(ours, rerunsOf), all(ours, settledOf), all(theirs, rerunsOf)
	fmt.Printf("end to end, %d pair(s), admission webhooks on (medians; CPU-s: the whole machine, then the command's own):\n", pairs)
	fmt.Printf("kubeflow (whole command with its defaults, --wait included):\n  first %s\n  no-op re-run right after %s\n  no-op re-run, settled bed %s\n  cache-cold no-op %s\n",
		of.WithOwn(), benchkit.Spread(or), benchkit.Spread(os_), oc.WithOwn())
	fmt.Printf("runbook (fetch + kubectl kustomize example + apply --server-side until it succeeds):\n  first %s\n  re-run %s\n", tf.WithOwn(), benchkit.Spread(tr))
	fmt.Printf("ratio runbook/kubeflow by wall: first %.2fx, no-op re-run %.2fx (settled %.2fx), cache-cold no-op %.2fx\n",
		benchkit.Ratio(tf, of), benchkit.Ratio(benchkit.Median(tr), benchkit.Median(or)), benchkit.Ratio(benchkit.Median(tr), benchkit.Median(os_)), benchkit.Ratio(benchkit.Median(tr), oc))
	return nil
}
