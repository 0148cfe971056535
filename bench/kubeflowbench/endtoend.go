package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The end-to-end comparison times each side as a user runs it, on its own fresh bed (admission
// webhooks on, a default StorageClass), with the Kubeflow v1.10.2 archive served on loopback:
//
//   - ours: `kubectl flexigrobots kubeflow --manifests URL --registration-flow
//     --ingress-service-type LoadBalancer --wait=false`, the plugin binary with an empty user
//     cache, so the first run includes the download, the kustomize build and the preflight; then
//     the same command again (the no-op re-run, its build from the build cache); then again with
//     the user cache deleted (the cache-cold no-op: download and build again, nothing to apply).
//   - theirs: the runbook's commands as a script: fetch and untar the archive (first run only, the
//     clone is kept), `kubectl kustomize example` (every run, as the runbook builds before it
//     applies), then `kubectl apply --server-side --force-conflicts` again until it succeeds (a
//     failed pass retried after 0.2 s). The file it applies is `kubeflow render
//     --include-secrets` of the same edits, made before the clock starts: the same objects as
//     ours minus the Secrets our converge generates; the timed kustomize build stands for the
//     runbook's build and sed edits.
const runbookKubeflow = `set -euo pipefail
until_ok() { for i in $(seq 1 300); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.2; done; "$@"; }
if [ ! -d manifests ]; then mkdir manifests.part && curl -fsSL "$KFURL" | tar xz -C manifests.part --strip-components 1 && mv manifests.part manifests; fi
(cd manifests && kubectl kustomize example >../kustomize-build.yaml 2>/dev/null)
until_ok kubectl apply --server-side --force-conflicts -f kubeflow.yaml
`

// e2eSamples are one side's figures of one pair.
type e2eSamples struct {
	first, rerun, coldRerun benchkit.Sample
}

// e2eBed is a fresh bed with the archive served and a folder for the side's files and caches.
type e2eBed struct {
	dir, kfURL string
	kubeconfig string
	stop       func()
}

func newE2EBed(archive string) (*e2eBed, error) {
	c, _, err := benchkit.StartBed(true)
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
	return &e2eBed{dir: dir, kfURL: url, kubeconfig: c.Kubeconfig, stop: func() {
		stopServe()
		benchkit.StopBed(c)
		os.RemoveAll(dir)
	}}, nil
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
	b, err := newE2EBed(archive)
	if err != nil {
		return s, err
	}
	defer b.stop()
	converge := func() error {
		cmd := exec.Command(plugin, b.kubeflowArgs("--wait=false")...)
		cmd.Env = b.env()
		return run1(cmd)
	}
	if s.first, s.rerun, err = benchkit.FirstAndRerun("kubeflow", converge); err != nil {
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
	b, err := newE2EBed(archive)
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
	s.first, s.rerun, err = benchkit.FirstAndRerun("runbook", script)
	s.coldRerun = s.rerun
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
		fmt.Printf("pair %d: kubeflow first %s re-run %s cache-cold re-run %s | runbook first %s re-run %s\n",
			i, o.first, o.rerun, o.coldRerun, t.first, t.rerun)
		ours, theirs = append(ours, o), append(theirs, t)
	}
	pick := func(s []e2eSamples, f func(e2eSamples) benchkit.Sample) benchkit.Sample {
		var out []benchkit.Sample
		for _, x := range s {
			out = append(out, f(x))
		}
		return benchkit.Median(out)
	}
	first := func(x e2eSamples) benchkit.Sample { return x.first }
	rerun := func(x e2eSamples) benchkit.Sample { return x.rerun }
	cold := func(x e2eSamples) benchkit.Sample { return x.coldRerun }
	of, or, oc := pick(ours, first), pick(ours, rerun), pick(ours, cold)
	tf, tr := pick(theirs, first), pick(theirs, rerun)
	fmt.Printf("end to end, median of %d pair(s), admission webhooks on:\n", pairs)
	fmt.Printf("kubeflow (whole command: download, build, preflight, converge; --wait=false): first %s   no-op re-run %s   cache-cold no-op %s\n", of, or, oc)
	fmt.Printf("runbook  (fetch + kubectl kustomize example + apply --server-side until it succeeds): first %s   re-run %s\n", tf, tr)
	fmt.Printf("ratio runbook/kubeflow: first %.2fx, no-op re-run %.2fx, cache-cold no-op %.2fx\n",
		benchkit.Ratio(tf, of), benchkit.Ratio(tr, or), benchkit.Ratio(tr, oc))
	return nil
}
