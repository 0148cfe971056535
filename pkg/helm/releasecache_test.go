package helm

import (
	"testing"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
)

// countingDriver counts the reads that reach the store.
type countingDriver struct {
	driver.Driver
	lists, queries int
}

func (d *countingDriver) List(f func(*release.Release) bool) ([]*release.Release, error) {
	d.lists++
	return d.Driver.List(f)
}

func (d *countingDriver) Query(l map[string]string) ([]*release.Release, error) {
	d.queries++
	return d.Driver.Query(l)
}

func TestReleaseCacheReadsOnceUntilAWrite(t *testing.T) {
	mem := driver.NewMemory()
	mem.SetNamespace("gpu-operator")
	rel := func(name string, v int, st release.Status) *release.Release {
		return &release.Release{Name: name, Namespace: "gpu-operator", Version: v, Info: &release.Info{Status: st}}
	}
	for _, r := range []*release.Release{rel("gpu-operator", 1, release.StatusSuperseded), rel("gpu-operator", 2, release.StatusDeployed), rel("other", 1, release.StatusDeployed)} {
		if err := mem.Create(r.Name+"."+string(rune('0'+r.Version)), r); err != nil {
			t.Fatal(err)
		}
	}
	inner := &countingDriver{Driver: mem}
	other := &countingDriver{Driver: driver.NewMemory()}
	var caches []*releaseCache
	forgetAll := func() {
		for _, c := range caches {
			c.forget()
		}
	}
	c := newReleaseCache(inner, forgetAll)
	all := newReleaseCache(other, forgetAll) // the all-namespaces read of the same Client
	caches = append(caches, c, all)

	ofGPU := func(r *release.Release) bool { return r.Name == "gpu-operator" }
	got, err := c.List(ofGPU)
	if err != nil || len(got) != 2 {
		t.Fatalf("List: %d releases, %v; want the 2 revisions of gpu-operator", len(got), err)
	}
	for _, r := range got {
		r.Info.Status = release.StatusSuperseded // what an upgrade does to the last one before it writes
	}
	again, _ := c.List(ofGPU)
	if inner.lists != 1 {
		t.Errorf("the store was listed %d times for two reads, want 1", inner.lists)
	}
	for _, r := range again {
		if r.Version == 2 && r.Info.Status != release.StatusDeployed {
			t.Errorf("a caller's change to a release reached the cache: revision 2 is %s", r.Info.Status)
		}
	}
	if n, _ := c.List(func(r *release.Release) bool { return r.Name == "other" }); len(n) != 1 {
		t.Errorf("another filter on the cached read: %d releases, want 1", len(n))
	}
	q := map[string]string{"name": "gpu-operator", "owner": "helm"}
	if h, err := c.Query(q); err != nil || len(h) != 2 {
		t.Fatalf("Query: %d, %v", len(h), err)
	}
	if h, err := c.Query(map[string]string{"name": "gpu-operator", "owner": "helm", "status": "deployed"}); err != nil || len(h) != 1 || h[0].Version != 2 {
		t.Fatalf("Query of the deployed revision: %d, %v; want revision 2", len(h), err)
	}
	if _, err := c.Query(map[string]string{"name": "absent", "owner": "helm"}); err != driver.ErrReleaseNotFound {
		t.Fatalf("Query of no release: %v, want driver.ErrReleaseNotFound", err)
	}
	if inner.queries != 0 {
		t.Errorf("the store was queried %d times after the namespace was listed, want 0 (answered from the list)", inner.queries)
	}
	fresh := newReleaseCache(&countingDriver{Driver: mem}, forgetAll) // never listed: queries the store
	fresh.Query(q)
	fresh.Query(map[string]string{"owner": "helm", "name": "gpu-operator"}) // same labels, other order
	if n := fresh.Driver.(*countingDriver).queries; n != 1 {
		t.Errorf("the store was queried %d times for the same labels, want 1", n)
	}
	all.List(func(*release.Release) bool { return true })

	if err := c.Create("gpu-operator.3", rel("gpu-operator", 3, release.StatusDeployed)); err != nil {
		t.Fatal(err)
	}
	got, _ = c.List(ofGPU)
	if inner.lists != 2 || len(got) != 3 {
		t.Errorf("after a write: listed %d times, %d revisions; want a new read with 3", inner.lists, len(got))
	}
	if h, _ := c.Query(q); len(h) != 3 {
		t.Errorf("after a write: Query answers %d revisions, want 3", len(h))
	}
	all.List(func(*release.Release) bool { return true })
	if other.lists != 2 {
		t.Errorf("after a write: the all-namespaces cache listed %d times; want it read again (2)", other.lists)
	}
}
