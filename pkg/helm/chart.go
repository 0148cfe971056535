package helm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/downloader"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/helmpath"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// LoadChart fetches the chart of s before anything changes in the cluster: --chart (a local .tgz
// or folder, an http(s) URL of a .tgz, or oci://registry/repo/chart) or else ChartName at
// --chart-version from --chart-repo (the repository's index.yaml is read directly; no `helm repo
// add`), through helm's getters and downloader with the chart flags' credentials and TLS files,
// and with --chart-verify its provenance checked. An unknown version or chart, or a missing local
// chart, is a usage error (exit code 2) naming what is available. Downloads from a repository are
// cached in CacheDir and reused only while their digest matches the index.
func (c *Client) LoadChart(ctx context.Context, s Spec) (*chart.Chart, error) {
	// helm's getters take no context: a Ctrl-C during a download returns at once (the abandoned
	// download ends with the process; a partial file never replaces a cached one, see
	// fileutil.AtomicWriteFile in helm's downloader).
	type result struct {
		ch  *chart.Chart
		err error
	}
	done := make(chan result, 1)
	go func() {
		ch, err := c.loadChart(s)
		done <- result{ch, err}
	}()
	select {
	case r := <-done:
		return r.ch, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (c *Client) loadChart(s Spec) (*chart.Chart, error) {
	ref := s.Chart.Chart
	ra, err := newRepoAccess(s.Chart)
	if err != nil {
		return nil, err
	}
	switch {
	case ref == "":
		return c.loadFromRepo(ra, s.Chart.Repo, s.ChartName, s.Chart.Version)
	case strings.HasPrefix(ref, registry.OCIScheme+"://"):
		if s.Chart.Verify {
			return nil, core.UsageErrorf("--chart-verify checks a repository's or an archive's .prov file; for oci:// charts verify with `helm pull --verify` and give the archive to --chart")
		}
		return c.loadFromOCI(ra, ref, s.Chart.Version)
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		path, err := c.download(ra, ref, "", c.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("helm: download chart %s: %w", ref, err)
		}
		ch, err := loader.Load(path)
		if err != nil {
			return nil, core.UsageErrorf("--chart %s is not a chart archive (.tgz): %v", ref, err)
		}
		return ch, nil
	}
	if _, err := os.Stat(ref); err != nil {
		return nil, core.UsageErrorf("--chart %s: %v: give a chart .tgz or folder, an https URL of a .tgz, or oci://registry/repo/chart", ref, err)
	}
	if s.Chart.Verify {
		if _, err := downloader.VerifyChart(ref, s.Chart.Keyring); err != nil {
			return nil, core.UsageErrorf("--chart %s: provenance: %v (--chart-verify needs %s.prov signed by a key of --chart-keyring)", ref, err, ref)
		}
	}
	ch, err := loader.Load(ref)
	if err != nil {
		return nil, core.UsageErrorf("--chart %s is not a valid chart: %v", ref, err)
	}
	return ch, nil
}

// download fetches the chart archive at href into dir with helm's downloader (its .prov too,
// verified against the keyring, with --chart-verify) and returns its path.
func (c *Client) download(ra repoAccess, href, version, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	dl := &downloader.ChartDownloader{Out: io.Discard, Getters: getter.Getters(), Options: ra.options(), Keyring: ra.f.Keyring}
	if ra.f.Verify {
		dl.Verify = downloader.VerifyAlways
	}
	path, _, err := dl.DownloadTo(href, version, dir)
	return path, err
}

// ChartVersions lists the versions of chart name in the repository at repoURL, newest first
// (what --chart-version completes with). It reads the repository's index.
func (c *Client) ChartVersions(repoURL, name string) ([]string, error) {
	index, err := c.repoIndex(repoAccess{}, repoURL)
	if err != nil {
		return nil, err
	}
	entries := slices.Clone(index.Entries[name]) // the index is shared (see repoIndex)
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

// repoIndex is the index of the repository at repoURL, downloaded once a run for each
// repository and access (apply -f's helm sections often take their charts from one mirror).
// The index is shared: its readers must not change it. A failed download is not kept.
func (c *Client) repoIndex(ra repoAccess, repoURL string) (*repo.IndexFile, error) {
	e := ra.entry(repoURL)
	key := hashOf(strings.Join([]string{strings.TrimSuffix(e.URL, "/"), e.Username, e.Password, e.CertFile, e.KeyFile, e.CAFile, strconv.FormatBool(e.InsecureSkipTLSverify)}, "\x00"))
	c.mu.Lock()
	if c.indexes == nil {
		c.indexes = map[string]*indexOnce{}
	}
	once := c.indexes[key]
	if once == nil {
		once = &indexOnce{}
		c.indexes[key] = once
	}
	c.mu.Unlock()
	once.Do(func() { once.index, once.err = c.downloadIndex(ra, repoURL) })
	if once.err != nil {
		c.mu.Lock()
		if c.indexes[key] == once {
			delete(c.indexes, key) // the next caller tries again
		}
		c.mu.Unlock()
	}
	return once.index, once.err
}

// indexOnce is one repository's index, read once.
type indexOnce struct {
	sync.Once
	index *repo.IndexFile
	err   error
}

// downloadIndex downloads and loads the index of the repository at repoURL into the cache.
func (c *Client) downloadIndex(ra repoAccess, repoURL string) (*repo.IndexFile, error) {
	// helm writes the index to <name>-index.yaml in place: a name of its own per call, so that
	// sections reading the same repository at once (apply -f), or two runs, never read a file
	// another is writing. The file is removed once loaded.
	entry := ra.entry(repoURL)
	entry.Name = fmt.Sprintf("index-%d-%d", os.Getpid(), indexSeq.Add(1))
	cr, err := repo.NewChartRepository(entry, getter.Getters())
	if err != nil {
		return nil, core.UsageErrorf("--chart-repo %s: %v", repoURL, err)
	}
	cr.CachePath = filepath.Join(c.CacheDir, "repository", hashOf(strings.TrimSuffix(repoURL, "/")))
	indexPath, err := cr.DownloadIndexFile()
	if err != nil {
		return nil, fmt.Errorf("helm: read the index of chart repository %s: %w (on an air-gapped site give --chart-repo of a mirror, or --chart PATH|URL|oci://...)", repoURL, err)
	}
	index, err := repo.LoadIndexFile(indexPath)
	_ = os.Remove(indexPath)
	_ = os.Remove(filepath.Join(cr.CachePath, helmpath.CacheChartsFile(entry.Name)))
	if err != nil {
		return nil, fmt.Errorf("helm: chart repository %s: bad index.yaml: %w", repoURL, err)
	}
	return index, nil
}

// indexSeq numbers the index downloads of this process.
var indexSeq atomic.Int64

// loadFromRepo reads the repository index, resolves version (exact, a semver range, or empty
// for the newest) and takes the archive from the cache when its digest is the index's, or
// downloads it (then its digest must be the index's).
func (c *Client) loadFromRepo(ra repoAccess, repoURL, name, version string) (*chart.Chart, error) {
	if repoURL == "" {
		return nil, core.UsageErrorf("--chart-repo is empty: give a repository URL or --chart PATH|URL|oci://...")
	}
	if name == "" {
		return nil, core.UsageErrorf("no chart name for repository %s: give --chart PATH|URL|oci://...", repoURL)
	}
	if _, err := url.Parse(repoURL); err != nil {
		return nil, core.UsageErrorf("--chart-repo %q is not a URL: %v", repoURL, err)
	}
	index, err := c.repoIndex(ra, repoURL)
	if err != nil {
		return nil, err
	}
	cv, err := index.Get(name, version)
	if err != nil {
		versions, ok := index.Entries[name]
		if !ok || len(versions) == 0 {
			return nil, core.UsageErrorf("chart %q is not in repository %s: check --chart-repo", name, repoURL)
		}
		var all []string
		for _, v := range versions {
			all = append(all, v.Version)
		}
		return nil, core.UsageErrorf("chart %s has no version %q in repository %s: available near it: %s (use --chart-version)", name, version, repoURL, strings.Join(nearVersions(all, version, 10), ", "))
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("helm: chart %s-%s in repository %s has no download URL", name, cv.Version, repoURL)
	}
	chartURL, err := repo.ResolveReferenceURL(repoURL, cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s-%s: bad URL %q in the index of %s: %w", name, cv.Version, cv.URLs[0], repoURL, err)
	}
	dir := filepath.Join(c.CacheDir, "repository", hashOf(strings.TrimSuffix(repoURL, "/")))
	u, err := url.Parse(chartURL)
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s-%s: bad URL %q: %w", name, cv.Version, chartURL, err)
	}
	cached := filepath.Join(dir, filepath.Base(u.Path))
	if d, err := fileDigest(cached); err == nil && cv.Digest != "" && d == cv.Digest {
		verified := !ra.f.Verify
		if !verified {
			_, err := downloader.VerifyChart(cached, ra.f.Keyring)
			verified = err == nil
		}
		if verified {
			if ch, err := loader.Load(cached); err == nil {
				return ch, nil
			}
		}
	}
	path, err := c.download(ra, chartURL, cv.Version, dir)
	if err != nil {
		return nil, fmt.Errorf("helm: download chart %s-%s from %s: %w", name, cv.Version, chartURL, err)
	}
	if d, err := fileDigest(path); err != nil || (cv.Digest != "" && d != cv.Digest) {
		_ = os.Remove(path)
		return nil, fmt.Errorf("helm: chart %s-%s from %s: its sha256 is not the digest the index of %s gives (%v): the mirror serves another archive than it lists", name, cv.Version, chartURL, repoURL, err)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("helm: chart %s-%s from %s: %w", name, cv.Version, chartURL, err)
	}
	return ch, nil
}

// loadFromOCI pulls ref (oci://host/repo/chart[:tag]); a version not among the registry's tags
// is a usage error listing the tags near it. Credentials come from `helm registry login`.
func (c *Client) loadFromOCI(ra repoAccess, ref, version string) (*chart.Chart, error) {
	rc, err := ra.registryClient()
	if err != nil {
		return nil, err
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
			return nil, core.UsageErrorf("chart %s has no version %q: available near it: %s (use --chart-version)", ref, version, strings.Join(nearVersions(tags, version, 10), ", "))
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
