package helm

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// releaseCache keeps, for one namespace, what helm's Secrets driver read and decoded, until
// anything is written through it. A section reads the same releases several times a run (the
// release lookup, the chart pick, the adoption's history, the ensure; gpu slicing reads the
// operator's release again) and each read decoded every stored revision again: base64, gzip and
// the JSON of the whole chart, about 60 ms per read of gpu-operator's two revisions. Writes
// (install, upgrade, rollback, uninstall: Create, Update, Delete) pass through and empty every
// namespace's cache of the Client (the all-namespaces read sees that namespace too); a
// release written meanwhile by another client is seen by the next command, as with any read
// followed by an action. Each caller gets its own copy of a release's struct and Info, which
// helm's actions change before they write; the chart, values and manifest are shared, read only.
type releaseCache struct {
	driver.Driver
	written func() // forgets every cache of the Client
	mu      sync.Mutex
	all     []*release.Release // every release of the namespace; nil until first listed
	queries map[string][]*release.Release
}

func newReleaseCache(d driver.Driver, written func()) *releaseCache {
	return &releaseCache{Driver: d, written: written, queries: map[string][]*release.Release{}}
}

// List filters every release of the namespace, read once.
func (c *releaseCache) List(filter func(*release.Release) bool) ([]*release.Release, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.all == nil {
		all, err := c.Driver.List(func(*release.Release) bool { return true })
		if err != nil {
			return nil, err
		}
		c.all = all
	}
	var out []*release.Release
	for _, r := range c.all {
		if filter(r) {
			out = append(out, ownCopy(r))
		}
	}
	return out, nil
}

// Query answers a label query from the namespace's releases when they were listed (a query of
// helm's owner label selects among them: the Secrets driver lists those), else from its first
// answer (errors, such as no release found, are not kept).
func (c *releaseCache) Query(labels map[string]string) ([]*release.Release, error) {
	var key strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		key.WriteString(k + "=" + labels[k] + ",")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	rels, ok := c.queries[key.String()]
	if !ok && c.all != nil && labels["owner"] == "helm" {
		for _, r := range c.all {
			if matches(r, labels) {
				rels = append(rels, r)
			}
		}
		if len(rels) == 0 {
			return nil, driver.ErrReleaseNotFound // as the driver says it
		}
		ok = true
	}
	if !ok {
		var err error
		if rels, err = c.Driver.Query(labels); err != nil {
			return nil, err
		}
		c.queries[key.String()] = rels
	}
	out := make([]*release.Release, len(rels))
	for i, r := range rels {
		out[i] = ownCopy(r)
	}
	return out, nil
}

// matches tells whether r carries labels: helm's own (name, owner, status, version) as the
// drivers set them from r, the others from r.Labels.
func matches(r *release.Release, labels map[string]string) bool {
	for k, v := range labels {
		var have string
		switch k {
		case "name":
			have = r.Name
		case "owner":
			have = "helm"
		case "status":
			if r.Info != nil {
				have = r.Info.Status.String()
			}
		case "version":
			have = strconv.Itoa(r.Version)
		default:
			have = r.Labels[k]
		}
		if have != v {
			return false
		}
	}
	return true
}

// Create stores rls and forgets what was read.
func (c *releaseCache) Create(key string, rls *release.Release) error {
	defer c.written()
	return c.Driver.Create(key, rls)
}

// Update stores rls and forgets what was read.
func (c *releaseCache) Update(key string, rls *release.Release) error {
	defer c.written()
	return c.Driver.Update(key, rls)
}

// Delete removes the release and forgets what was read.
func (c *releaseCache) Delete(key string) (*release.Release, error) {
	defer c.written()
	return c.Driver.Delete(key)
}

func (c *releaseCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = nil
	clear(c.queries)
}

// ownCopy is r with its own struct and Info (what helm's actions set before a write).
func ownCopy(r *release.Release) *release.Release {
	cp := *r
	if r.Info != nil {
		info := *r.Info
		cp.Info = &info
	}
	return &cp
}
