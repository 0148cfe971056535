package helm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// state is the stored history of one release.
type state struct {
	name     string
	last     *release.Release // newest revision, any status
	deployed *release.Release // newest deployed revision, nil when none
}

// findState reads every release of chartName in namespace (one LIST of helm's release Secrets)
// and picks the one named preferred, else the only release of the chart under another name.
// nil means no release of the chart exists. A release named preferred of another chart is an
// error, as is more than one release of the chart when none is named preferred.
func findState(cfg *action.Configuration, namespace, chartName, preferred string) (*state, error) {
	all, err := cfg.Releases.List(func(r *release.Release) bool {
		return r.Name == preferred || (r.Chart != nil && r.Chart.Metadata != nil && r.Chart.Metadata.Name == chartName)
	})
	if err != nil {
		return nil, fmt.Errorf("helm: list releases in namespace %s: %w", namespace, err)
	}
	byName := map[string]*state{}
	for _, r := range all {
		st := byName[r.Name]
		if st == nil {
			st = &state{name: r.Name}
			byName[r.Name] = st
		}
		if st.last == nil || r.Version > st.last.Version {
			st.last = r
		}
		if r.Info != nil && r.Info.Status == release.StatusDeployed && (st.deployed == nil || r.Version > st.deployed.Version) {
			st.deployed = r
		}
	}
	if st, ok := byName[preferred]; ok && preferred != "" {
		if got := chartNameOf(st.last.Chart); got != chartName {
			return nil, fmt.Errorf("helm: release %s in namespace %s is of chart %q, not %q: uninstall it (helm uninstall %s -n %s) or install into another namespace", preferred, namespace, got, chartName, preferred, namespace)
		}
		return st, nil
	}
	var names []string
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	switch len(names) {
	case 0:
		return nil, nil
	case 1:
		return byName[names[0]], nil
	}
	return nil, fmt.Errorf("helm: namespace %s has %d releases of chart %s (%s): keep one and uninstall the others with `helm uninstall NAME -n %s`", namespace, len(names), chartName, strings.Join(names, ", "), namespace)
}

// warnOtherNamespaces says on stderr when the chart already has releases in other namespaces
// (e.g. the runbook's manual install went elsewhere): a second instance may clash on cluster-wide
// objects. Best effort: without the right to list Secrets cluster-wide it says nothing.
func (c *Client) warnOtherNamespaces(s Spec) {
	cfg, err := c.config("")
	if err != nil {
		return
	}
	others, err := cfg.Releases.List(func(r *release.Release) bool {
		return r.Namespace != s.Namespace && chartNameOf(r.Chart) == s.ChartName && r.Info != nil && r.Info.Status != release.StatusUninstalled
	})
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, r := range others {
		if key := r.Namespace + "/" + r.Name; !seen[key] {
			seen[key] = true
			c.progress.Logf("helm: warning: chart %s also has release %s in namespace %s; installing another in %s (if that one is a leftover: helm uninstall %s -n %s)", s.ChartName, r.Name, r.Namespace, s.Namespace, r.Name, r.Namespace)
		}
	}
}

func chartNameOf(c *chart.Chart) string {
	if c == nil || c.Metadata == nil {
		return ""
	}
	return c.Metadata.Name
}

// recoverPending recovers a release left in pending-install, pending-upgrade or pending-rollback
// (an interrupted run): roll back to the newest deployed revision, or uninstall a pending install
// that never deployed. It says what it does on stderr and returns the state afterwards (nil when
// the release was uninstalled).
func (c *Client) recoverPending(cfg *action.Configuration, s Spec, st *state) (*state, error) {
	status, rev := st.last.Info.Status, st.last.Version
	if st.deployed == nil {
		c.progress.Logf("helm: release %s/%s was left %s at revision %d with no deployed revision (an interrupted run?); uninstalling it to install again", s.Namespace, st.name, status, rev)
		un := action.NewUninstall(cfg)
		un.Timeout = s.Timeout
		if _, err := un.Run(st.name); err != nil {
			return nil, fmt.Errorf("helm: release %s/%s is stuck in %s and uninstalling it failed: %w; fix it with `helm uninstall %s -n %s` and re-run", s.Namespace, st.name, status, err, st.name, s.Namespace)
		}
		return nil, nil
	}
	c.progress.Logf("helm: release %s/%s was left %s at revision %d (an interrupted run?); rolling back to deployed revision %d", s.Namespace, st.name, status, rev, st.deployed.Version)
	rb := action.NewRollback(cfg)
	rb.Version = st.deployed.Version
	rb.Timeout = s.Timeout
	if err := rb.Run(st.name); err != nil {
		return nil, fmt.Errorf("helm: release %s/%s is stuck in %s and rolling back failed: %w; fix it with `helm rollback %s %d -n %s` and re-run", s.Namespace, st.name, status, err, st.name, st.deployed.Version, s.Namespace)
	}
	return findState(cfg, s.Namespace, chartNameOf(st.last.Chart), st.name)
}

// install runs helm install (replace reuses the name of an uninstalled release kept in history).
func (c *Client) install(ctx context.Context, cfg *action.Configuration, s Spec, name string, ch *chart.Chart, vals map[string]any, replace bool, chk *apiCheck) (*release.Release, error) {
	in := action.NewInstall(cfg)
	in.PostRenderer = chk
	in.ReleaseName = name
	in.Namespace = s.Namespace
	in.CreateNamespace = s.CreateNamespace
	in.Replace = replace
	if v := imagesLabelValue(s.Images); v != "" {
		in.Labels = map[string]string{ImagesLabel: v}
	}
	in.Timeout = s.Timeout
	in.Wait = s.Wait && !s.dryRun()
	in.SkipCRDs = s.ApplyCRDs != nil
	if s.dryRun() {
		in.DryRun = true
		in.DryRunOption = string(s.DryRun)
		in.HideSecret = true
	}
	if s.DryRun == core.DryRunClient || c.diffMode(s) {
		// A diff of an install needs only the rendering: every object is new. (The server
		// could not check the chart's custom resources before their CRDs exist anyway.)
		in.DryRunOption = string(core.DryRunClient)
		if err := c.renderOnly(in); err != nil {
			return nil, err
		}
	}
	done := c.startWait(s, "installing", name, ch)
	rel, err := in.RunWithContext(ctx, ch, vals)
	done()
	if err != nil {
		if chk.err != nil {
			return rel, chk.err
		}
		return rel, c.actionError(err, "install", s, name, ch)
	}
	return rel, nil
}

// renderOnly makes a client dry-run install render the chart without the API server mapping its
// objects (helm's `template` mode): otherwise the custom resources of a chart whose CRDs are not
// installed yet (gpu-operator's ClusterPolicy) fail the dry run. The server's Kubernetes version
// and API versions stand in for helm's defaults, so the chart renders as it would install.
func (c *Client) renderOnly(in *action.Install) error {
	dc, err := c.getter.ToDiscoveryClient()
	if err != nil {
		return fmt.Errorf("helm: discovery: %w", err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		return fmt.Errorf("helm: read the server version: %w", err)
	}
	if in.APIVersions, err = action.GetVersionSet(dc); err != nil {
		return fmt.Errorf("helm: read the server's API versions: %w", err)
	}
	in.KubeVersion = &chartutil.KubeVersion{Version: v.GitVersion, Major: v.Major, Minor: v.Minor}
	in.ClientOnly = true
	return nil
}

// upgrade runs helm upgrade with exactly vals (the values were already merged, so helm's own
// reuse logic is off).
func (c *Client) upgrade(ctx context.Context, cfg *action.Configuration, s Spec, name string, ch *chart.Chart, vals map[string]any, chk *apiCheck) (*release.Release, error) {
	up := action.NewUpgrade(cfg)
	up.PostRenderer = chk
	up.Namespace = s.Namespace
	up.ResetValues = true
	up.Labels = map[string]string{ImagesLabel: imagesLabelValue(s.Images)}
	if up.Labels[ImagesLabel] == "" {
		up.Labels[ImagesLabel] = "null" // helm's way to take a label off the release
	}
	up.Timeout = s.Timeout
	up.Wait = s.Wait && !s.dryRun()
	up.SkipCRDs = true
	if s.dryRun() {
		up.DryRun = true
		up.DryRunOption = string(s.DryRun)
		up.HideSecret = true
	}
	done := c.startWait(s, "upgrading", name, ch)
	rel, err := up.RunWithContext(ctx, name, ch, vals)
	done()
	if err != nil {
		if chk.err != nil {
			return rel, chk.err
		}
		return rel, c.actionError(err, "upgrade", s, name, ch)
	}
	return rel, nil
}

// startWait says on stderr that a wait starts; the returned func clears the progress line.
func (c *Client) startWait(s Spec, verb, name string, ch *chart.Chart) func() {
	if !s.Wait || s.dryRun() {
		return func() {}
	}
	c.setLastWait(s.Namespace, "")
	c.progress.Logf("helm: %s release %s/%s (chart %s-%s), waiting up to %s for it to be ready", verb, s.Namespace, name, ch.Metadata.Name, ch.Metadata.Version, s.Timeout.Round(time.Second))
	return c.progress.Done
}

// actionError says which release failed and how to go on.
func (c *Client) actionError(err error, verb string, s Spec, name string, ch *chart.Chart) error {
	hint := "re-run the command to continue"
	switch msg := err.Error(); {
	case strings.Contains(msg, "invalid ownership metadata"):
		hint = "the object belongs to another release or was made without helm: uninstall that release or delete the object, or install under another release name"
	case s.DryRun == core.DryRunServer && strings.Contains(msg, "no matches for kind"):
		hint = "the server cannot check the chart's custom resources before their CRDs are installed: use --dry-run=client to see what would be installed, or run without --dry-run"
	case strings.Contains(msg, "context deadline exceeded") || strings.Contains(msg, "timed out waiting"):
		c.mu.Lock()
		last := c.lastWait[s.Namespace]
		c.mu.Unlock()
		if last != "" {
			last = " (last seen: " + last + ")"
		}
		hint = fmt.Sprintf("not ready after %s%s: check the pods with `kubectl get pods -n %s`, then re-run (with a longer --timeout)", s.Timeout.Round(time.Second), last, s.Namespace)
	}
	return core.Wrapf(fmt.Errorf("%w; %s", err, hint), "helm: %s release %s/%s (chart %s-%s)", verb, s.Namespace, name, ch.Metadata.Name, ch.Metadata.Version)
}

// History returns every stored revision of release name in namespace, oldest first (what
// `helm history` lists); none when it does not exist.
func (c *Client) History(namespace, name string) ([]*release.Release, error) {
	cfg, err := c.config(namespace)
	if err != nil {
		return nil, err
	}
	revs, err := cfg.Releases.History(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helm: history of release %s/%s: %w", namespace, name, err)
	}
	slices.SortFunc(revs, func(a, b *release.Release) int { return a.Version - b.Version })
	return revs, nil
}
