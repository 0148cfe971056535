// Package helm installs or upgrades Helm releases on the helm v3 SDK, fed by the root's kubectl
// ConfigFlags (one action.Configuration per release namespace; helm's own EnvSettings flags are
// never registered). It is the only package that imports helm's action package.
//
// Ensure is the helm step of a runbook section: release missing -> install; deployed with the same
// chart and the same effective user values -> unchanged (nothing is written); otherwise upgrade.
// A release of the chart made under another name (e.g. with --generate-name) is found and upgraded
// instead of installing a second one, and a release left pending by an interrupted run is recovered.
package helm

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	ourkube "github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// ResultKind is the Kind of the output.Result that Ensure returns.
const ResultKind = "HelmRelease"

// DefaultTimeout bounds helm's hooks and waits when Spec.Timeout is zero.
const DefaultTimeout = 5 * time.Minute

// Client runs helm actions against the cluster of one RESTClientGetter (the root's ConfigFlags).
type Client struct {
	getter   genericclioptions.RESTClientGetter
	progress *output.Progress
	// CacheDir keeps downloaded repository indexes and charts (default: the user's cache dir,
	// e.g. ~/.cache/kubectl-flexigrobots/helm). No `helm repo add` is needed.
	CacheDir string
	// Diff, when set, receives what a server-side dry run of Ensure would change (see --diff).
	Diff *diff.Recorder

	mu       sync.Mutex
	lastWait map[string]string // namespace → helm's last readiness message there, for a timeout error
	releases map[string]*releaseCache
	indexes  map[string]*indexOnce // repository indexes read this run (see repoIndex)
}

// NewClient returns a Client over getter; progress (may be nil) receives waits and recoveries on
// stderr.
func NewClient(getter genericclioptions.RESTClientGetter, progress *output.Progress) *Client {
	dir := filepath.Join(os.TempDir(), "kubectl-flexigrobots-helm")
	if d, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(d, "kubectl-flexigrobots", "helm")
	}
	// What helm creates itself (the release's namespace, the crds/ CRDs) is written under the
	// plugin's name, as everything else the plugin writes, whatever the binary is called: an
	// uninstall tells by it what the plugin made (kube.Leftovers).
	kube.ManagedFieldsManager = ourkube.FieldManager
	return &Client{getter: getter, progress: progress, CacheDir: dir}
}

// NewClientFor returns a Client over the factory's kubeconfig flags that records into the
// factory's diff recorder, if any.
func NewClientFor(f *ourkube.Factory, progress *output.Progress) *Client {
	c := NewClient(f.ConfigFlags, progress)
	c.Diff = f.Diff
	return c
}

// Spec is one release as a runbook section wants it.
type Spec struct {
	// ReleaseName is the name used when installing (default ChartName), e.g.
	// "nfs-subdir-external-provisioner". An existing release of the chart under another name in
	// Namespace is upgraded instead.
	ReleaseName string
	// Namespace holds the release and its namespaced objects.
	Namespace string
	// ChartName is the chart's name in the repository, e.g. "metallb".
	ChartName string
	// Chart is --chart-repo/--chart-version/--chart/--set/-f.
	Chart core.ChartSource
	// Values are the command's own values; -f files override them, then --set.
	Values map[string]any
	// ReuseValues keeps the release's existing user values and overlays the values above.
	ReuseValues bool
	// ReuseChart upgrades with the chart stored in the deployed release (no repository is read),
	// for changing values only. Without a deployed release of ChartName it is an error.
	ReuseChart bool
	// CreateNamespace creates Namespace on install when missing.
	CreateNamespace bool
	// Wait waits with helm's readiness checks until Timeout (progress on stderr).
	Wait bool
	// Timeout bounds hooks and the wait (DefaultTimeout when zero).
	Timeout time.Duration
	// DryRun is core.DryRunNone, DryRunClient (render only) or DryRunServer (helm's dry run
	// against the server, lookups included). Nothing is persisted in either dry-run mode.
	DryRun core.DryRunStrategy
	// ApplyCRDs, when set, receives the chart's crds/ objects (subcharts included) on every
	// non-dry run, before install or upgrade, so they are created AND upgraded (helm itself never
	// upgrades crds/); helm then skips them. When nil, helm installs them on first install only.
	// When the run records what it would send (--diff, a dry run with -o json|yaml) it is called on
	// dry runs too: it must honour DryRun.
	ApplyCRDs func(ctx context.Context, crds []*unstructured.Unstructured) error
	// Images, when enabled, rewrites every image reference of the rendered templates to its
	// registry (helm's post-render step) and is kept in the release's labels, so a changed
	// registry upgrades the release. Helm v3 does not post-render hooks: a section whose chart
	// has hooks with images sets those through the chart's values.
	Images images.Registry
	// ChartValues, when set, gives values computed from the chart's own defaults (its
	// subcharts' under their names), under Values: e.g. the images of the chart's hooks, which
	// the post-render step cannot reach. It is called once the chart is loaded (see valuesOf).
	ChartValues func(defaults map[string]any) (map[string]any, error)
}

// chartFor loads the chart to install or upgrade with: the deployed release's own with
// ReuseChart, otherwise from --chart or the repository.
func (c *Client) chartFor(ctx context.Context, s Spec) (*chart.Chart, error) {
	if !s.ReuseChart {
		return c.LoadChart(ctx, s)
	}
	cfg, err := c.config(s.Namespace)
	if err != nil {
		return nil, err
	}
	st, err := findState(cfg, s.Namespace, s.ChartName, s.ReleaseName)
	if err != nil {
		return nil, err
	}
	if st == nil || st.deployed == nil || st.deployed.Chart == nil {
		return nil, fmt.Errorf("helm: no deployed release of chart %s in namespace %s to reuse the chart of", s.ChartName, s.Namespace)
	}
	return st.deployed.Chart, nil
}

func (s *Spec) dryRun() bool { return s.DryRun != "" && s.DryRun != core.DryRunNone }

// Check loads the chart of s and reads its values, changing nothing: the bad input Ensure would
// refuse (a chart or version that does not exist, a missing values file, a bad --set) is a
// usage error (exit code 2) here, so a section can refuse it before its own first write.
func (c *Client) Check(ctx context.Context, s Spec) error {
	ch, err := c.chartFor(ctx, s)
	if err != nil {
		return err
	}
	_, err = valuesOf(ch, s)
	return err
}

// Ensure makes the release match s: install, upgrade or nothing. Bad input (unknown chart version,
// missing values file, bad --set) is a usage error (exit code 2) returned before any change.
func (c *Client) Ensure(ctx context.Context, s Spec) (output.Result, *release.Release, error) {
	if s.ReleaseName == "" {
		s.ReleaseName = s.ChartName
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	s.Timeout = core.Budget(ctx, s.Timeout) // a command's --timeout bounds helm's waits too
	res := output.Result{Kind: ResultKind, Namespace: s.Namespace, Name: s.ReleaseName}
	if s.dryRun() {
		res.DryRun = s.DryRun
	}
	if s.Namespace == "" || (s.ChartName == "" && s.Chart.Chart == "") {
		return res, nil, fmt.Errorf("helm: release %q: namespace and chart name are required", s.ReleaseName)
	}
	switch s.DryRun {
	case "", core.DryRunNone, core.DryRunClient, core.DryRunServer:
	default:
		return res, nil, core.UsageErrorf("invalid --dry-run %q: use none, client or server", s.DryRun)
	}

	ch, err := c.chartFor(ctx, s)
	if err != nil {
		return res, nil, err
	}
	if s.ChartName == "" {
		s.ChartName = ch.Metadata.Name
	}
	res.Detail = "chart " + ch.Metadata.Name + "-" + ch.Metadata.Version
	vals, err := valuesOf(ch, s)
	if err != nil {
		return res, nil, err
	}
	crds, err := c.chartCRDsCached(ch)
	if err != nil {
		return res, nil, err
	}
	chk := &apiCheck{c: c, chart: res.Detail[len("chart "):], crds: crds, images: s.Images}
	if err := chk.check(nil); err != nil {
		return res, nil, err
	}

	cfg, err := c.config(s.Namespace)
	if err != nil {
		return res, nil, err
	}
	st, err := findState(cfg, s.Namespace, s.ChartName, s.ReleaseName)
	if err != nil {
		return res, nil, err
	}
	if st != nil {
		res.Name = st.name
		if st.name != s.ReleaseName {
			c.progress.Logf("helm: found release %s of chart %s in namespace %s; upgrading it instead of installing a second release %s", st.name, s.ChartName, s.Namespace, s.ReleaseName)
		}
		if s.ReuseValues && !s.Images.Enabled() && st.deployed != nil && st.deployed.Labels[ImagesLabel] != "" {
			return res, st.deployed, core.UsageErrorf("helm: release %s/%s pulls its images from an image registry (set by --image-registry or imageRegistry); give the same --image-registry (and --image-pull-secret) again, or the upgrade would pull from the upstream registries; nothing was changed", s.Namespace, st.name)
		}
	}

	if (!s.dryRun() || c.recording(s)) && s.ApplyCRDs != nil {
		if len(crds) > 0 {
			if err := s.ApplyCRDs(ctx, crds); err != nil {
				return res, nil, core.Wrapf(err, "helm: release %s/%s: apply the CRDs of %s", s.Namespace, res.Name, res.Detail[len("chart "):])
			}
			if s.dryRun() || !c.served(crds) {
				// A dry run created no CRD: a kind that maps may come from an older discovery
				// cache (e.g. MetalLB uninstalled since), so it is read anew.
				c.forgetDiscovery()
			}
		}
	}

	if st != nil && st.last.Info.Status == release.StatusUninstalling {
		return res, st.last, fmt.Errorf("helm: release %s/%s is being uninstalled (revision %d): finish with `helm uninstall %s -n %s`, then re-run", s.Namespace, st.name, st.last.Version, st.name, s.Namespace)
	}
	recovered := false
	if st != nil && st.last.Info.Status.IsPending() {
		if s.dryRun() {
			c.progress.Logf("helm: release %s/%s is stuck in %s (revision %d); a real run would recover it first", s.Namespace, st.name, st.last.Info.Status, st.last.Version)
		} else {
			if st, err = c.recoverPending(cfg, s, st); err != nil {
				return res, nil, err
			}
			recovered = true
		}
	}

	if st == nil || st.deployed == nil && st.last.Info.Status == release.StatusUninstalled {
		c.warnOtherNamespaces(s)
		rel, err := c.install(ctx, cfg, s, res.Name, ch, vals, st != nil, chk)
		if err != nil {
			return res, rel, err
		}
		if c.recording(s) {
			c.recordDiff(s.Namespace, nil, rel)
		}
		res.Action = output.Installed
		return res, rel, nil
	}

	base := st.deployed
	if base == nil {
		base = st.last
	}
	if s.ReuseValues {
		vals = mergeValues(copyValues(base.Config), vals)
	}
	if st.last.Info.Status == release.StatusDeployed && sameChart(base.Chart, ch) && equalValues(base.Config, vals) && base.Labels[ImagesLabel] == imagesLabelValue(s.Images) {
		res.Action = output.Unchanged
		if recovered {
			// The rollback made a new revision with exactly what is wanted.
			res.Action = output.Upgraded
			res.Detail += ", recovered by rollback"
		}
		return res, base, nil
	}
	rel, err := c.upgrade(ctx, cfg, s, res.Name, ch, vals, chk)
	if err != nil {
		return res, rel, err
	}
	if c.recording(s) {
		c.recordDiff(s.Namespace, base, rel)
	}
	res.Action = output.Upgraded
	return res, rel, nil
}

// config returns helm's action configuration for namespace, on the root's RESTClientGetter. The
// kube client is pinned to namespace too (helm's Init only pins the release storage, so objects
// without a namespace would otherwise follow the kubeconfig's or -n's namespace).
func (c *Client) config(namespace string) (*action.Configuration, error) {
	cfg := new(action.Configuration)
	if err := cfg.Init(c.getter, namespace, "secret", c.helmLog(namespace)); err != nil {
		return nil, fmt.Errorf("helm: configure namespace %s: %w", namespace, err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.releases == nil {
		c.releases = map[string]*releaseCache{}
	}
	if c.releases[namespace] == nil {
		c.releases[namespace] = newReleaseCache(cfg.Releases.Driver, c.forgetReleases)
	}
	cfg.Releases.Driver = c.releases[namespace] // the namespace's releases decoded once a run
	return cfg, nil
}

// forgetReleases empties every namespace's release cache (after a write through any of them).
func (c *Client) forgetReleases() {
	c.mu.Lock()
	caches := slices.Collect(maps.Values(c.releases))
	c.mu.Unlock()
	for _, rc := range caches {
		rc.forget()
	}
}

// helmLog turns helm's debug log for releases in namespace into progress: the readiness
// messages of its wait ("Deployment is not ready: ns/name. 0 out of 1 expected pods are ready")
// become the updating progress line, said as which workload waits for what (waitWords); the
// rest is dropped. Releases in other namespaces (apply -f
// runs sections side by side) keep their own last message.
func (c *Client) helmLog(namespace string) func(format string, args ...any) {
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		for _, marker := range []string{"is not ready", "is not bound", "does not have", "is not completed", "is failed"} {
			if strings.Contains(msg, marker) {
				msg = waitWords(msg)
				c.setLastWait(namespace, msg)
				c.progress.Update("helm: waiting: %s", msg)
				return
			}
		}
	}
}

func (c *Client) setLastWait(namespace, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastWait == nil {
		c.lastWait = map[string]string{}
	}
	c.lastWait[namespace] = msg
}

// Find returns the newest revision of a release of chartName in namespace under any name (e.g. one
// made with --generate-name), or nil when there is none. More than one such release is an error
// naming them.
func (c *Client) Find(namespace, chartName string) (*release.Release, error) {
	cfg, err := c.config(namespace)
	if err != nil {
		return nil, err
	}
	st, err := findState(cfg, namespace, chartName, "")
	if err != nil || st == nil {
		return nil, err
	}
	return st.last, nil
}
