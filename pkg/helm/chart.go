package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
)

// LoadChart fetches the chart of s before anything changes in the cluster: --chart (a local .tgz
// or folder, an http(s) URL of a .tgz, or oci://registry/repo/chart) or else ChartName at
// --chart-version from --chart-repo (the repository's index.yaml is read directly; no `helm repo
// add`). An unknown version or chart, or a missing local chart, is a usage error (exit code 2)
// naming what is available. Downloads are cached in CacheDir.
func (c *Client) LoadChart(ctx context.Context, s Spec) (*chart.Chart, error) {
	ref := s.Chart.Chart
	switch {
	case ref == "":
		return c.loadFromRepo(s.Chart.Repo, s.ChartName, s.Chart.Version)
	case strings.HasPrefix(ref, registry.OCIScheme+"://"):
		return c.loadFromOCI(ref, s.Chart.Version)
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		data, err := fetch(ref)
		if err != nil {
			return nil, fmt.Errorf("helm: download chart %s: %w", ref, err)
		}
		ch, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			return nil, cmdutil.UsageErrorf("--chart %s is not a chart archive (.tgz): %v", ref, err)
		}
		return ch, nil
	}
	if _, err := os.Stat(ref); err != nil {
		return nil, cmdutil.UsageErrorf("--chart %s: %v: give a chart .tgz or folder, an https URL of a .tgz, or oci://registry/repo/chart", ref, err)
	}
	ch, err := loader.Load(ref)
	if err != nil {
		return nil, cmdutil.UsageErrorf("--chart %s is not a valid chart: %v", ref, err)
	}
	return ch, nil
}

// ChartVersions lists the versions of chart name in the repository at repoURL, newest first
// (what --chart-version completes with). It reads the repository's index.
func (c *Client) ChartVersions(repoURL, name string) ([]string, error) {
	index, err := c.repoIndex(repoURL)
	if err != nil {
		return nil, err
	}
	entries := index.Entries[name]
	if len(entries) == 0 {
		return nil, fmt.Errorf("chart %q is not in repository %s", name, repoURL)
	}
	sort.Sort(sort.Reverse(entries)) // newest first, as helm sorts an index
	out := make([]string, 0, len(entries))
	for _, v := range entries {
		out = append(out, v.Version)
	}
	return out, nil
}

// repoIndex downloads and loads the index of the repository at repoURL into the cache.
func (c *Client) repoIndex(repoURL string) (*repo.IndexFile, error) {
	cr, err := repo.NewChartRepository(&repo.Entry{Name: "index", URL: repoURL}, getter.Getters())
	if err != nil {
		return nil, cmdutil.UsageErrorf("--chart-repo %s: %v", repoURL, err)
	}
	cr.CachePath = filepath.Join(c.CacheDir, "repository", hashOf(strings.TrimSuffix(repoURL, "/")))
	indexPath, err := cr.DownloadIndexFile()
	if err != nil {
		return nil, fmt.Errorf("helm: read the index of chart repository %s: %w (on an air-gapped site give --chart-repo of a mirror, or --chart PATH|URL|oci://...)", repoURL, err)
	}
	index, err := repo.LoadIndexFile(indexPath)
	if err != nil {
		return nil, fmt.Errorf("helm: chart repository %s: bad index.yaml: %w", repoURL, err)
	}
	return index, nil
}

// loadFromRepo reads the repository index (unless the chart is already cached), resolves version
// (exact, a semver range, or empty for the newest) and downloads the archive.
func (c *Client) loadFromRepo(repoURL, name, version string) (*chart.Chart, error) {
	if repoURL == "" {
		return nil, cmdutil.UsageErrorf("--chart-repo is empty: give a repository URL or --chart PATH|URL|oci://...")
	}
	if name == "" {
		return nil, cmdutil.UsageErrorf("no chart name for repository %s: give --chart PATH|URL|oci://...", repoURL)
	}
	if _, err := url.Parse(repoURL); err != nil {
		return nil, cmdutil.UsageErrorf("--chart-repo %q is not a URL: %v", repoURL, err)
	}
	dir := filepath.Join(c.CacheDir, "repository", hashOf(strings.TrimSuffix(repoURL, "/")))
	cached := filepath.Join(dir, name+"-"+version+".tgz")
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(version, "v")); err == nil {
		if ch, err := loader.Load(cached); err == nil && ch.Metadata.Version == version {
			return ch, nil
		}
	}

	index, err := c.repoIndex(repoURL)
	if err != nil {
		return nil, err
	}
	cv, err := index.Get(name, version)
	if err != nil {
		versions, ok := index.Entries[name]
		if !ok || len(versions) == 0 {
			return nil, cmdutil.UsageErrorf("chart %q is not in repository %s: check --chart-repo", name, repoURL)
		}
		var all []string
		for _, v := range versions {
			all = append(all, v.Version)
		}
		return nil, cmdutil.UsageErrorf("chart %s has no version %q in repository %s: available near it: %s (use --chart-version)", name, version, repoURL, strings.Join(nearVersions(all, version, 10), ", "))
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("helm: chart %s-%s in repository %s has no download URL", name, cv.Version, repoURL)
	}
	chartURL, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s-%s: bad URL %q in the index of %s: %w", name, cv.Version, cv.URLs[0], repoURL, err)
	}
	data, err := fetch(chartURL)
	if err != nil {
		return nil, fmt.Errorf("helm: download chart %s-%s from %s: %w", name, cv.Version, chartURL, err)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s-%s from %s: %w", name, cv.Version, chartURL, err)
	}
	// Best effort: a failed cache write only costs a download next time.
	_ = os.WriteFile(filepath.Join(dir, name+"-"+cv.Version+".tgz"), data, 0o644)
	return ch, nil
}

// loadFromOCI pulls ref (oci://host/repo/chart[:tag]); a version not among the registry's tags
// is a usage error listing the tags near it. Credentials come from `helm registry login`.
func (c *Client) loadFromOCI(ref, version string) (*chart.Chart, error) {
	rc, err := registry.NewClient(registry.ClientOptEnableCache(true))
	if err != nil {
		return nil, fmt.Errorf("helm: registry client: %w", err)
	}
	bare := strings.TrimPrefix(ref, registry.OCIScheme+"://")
	if strings.Contains(filepath.Base(bare), ":") || strings.Contains(bare, "@") {
		version = "" // the reference pins the tag or digest itself
	} else if version != "" {
		tags, err := rc.Tags(bare)
		if err != nil {
			return nil, fmt.Errorf("helm: list the tags of %s: %w", ref, err)
		}
		found := false
		for _, t := range tags {
			found = found || t == version
		}
		if !found {
			return nil, cmdutil.UsageErrorf("chart %s has no version %q: available near it: %s (use --chart-version)", ref, version, strings.Join(nearVersions(tags, version, 10), ", "))
		}
	}
	g, err := getter.NewOCIGetter(getter.WithRegistryClient(rc))
	if err != nil {
		return nil, err
	}
	opts := []getter.Option{}
	if version != "" {
		opts = append(opts, getter.WithTagName(version))
	}
	buf, err := g.Get(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("helm: pull chart %s: %w", ref, err)
	}
	return loader.LoadArchive(buf)
}

// fetch downloads href with helm's http getter.
func fetch(href string) ([]byte, error) {
	u, err := url.Parse(href)
	if err != nil {
		return nil, err
	}
	g, err := getter.Getters().ByScheme(u.Scheme)
	if err != nil {
		return nil, err
	}
	buf, err := g.Get(href)
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// nearVersions returns up to n of versions closest to want in semver order (newest first); when
// want is not a version, the n newest.
func nearVersions(versions []string, want string, n int) []string {
	type sv struct {
		raw string
		v   *semver.Version
	}
	var list []sv
	for _, raw := range versions {
		if v, err := semver.NewVersion(raw); err == nil {
			list = append(list, sv{raw, v})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v.GreaterThan(list[j].v) })
	start := 0
	if w, err := semver.NewVersion(want); err == nil {
		pos := sort.Search(len(list), func(i int) bool { return !list[i].v.GreaterThan(w) })
		start = max(0, min(pos-n/2, len(list)-n))
	}
	var out []string
	for i := start; i < len(list) && len(out) < n; i++ {
		out = append(out, list[i].raw)
	}
	if len(out) == 0 {
		return []string{"(none)"}
	}
	return out
}

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// VersionLister returns what lists the versions of chartName in a repository, for
// --chart-version's completion (cached like every chart download, in the user cache dir).
func VersionLister(chartName string) func(repoURL string) ([]string, error) {
	return func(repoURL string) ([]string, error) {
		return NewClient(nil, nil).ChartVersions(repoURL, chartName)
	}
}
