package helm

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const nfsChart = "nfs-subdir-external-provisioner"

func TestLoadChartFromRepo(t *testing.T) {
	repoURL := testbed.ChartRepo(t)
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	s := Spec{ChartName: nfsChart, Chart: core.ChartSource{Repo: repoURL, Version: "4.0.18"}}
	ch, err := c.LoadChart(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Metadata.Name != nfsChart || ch.Metadata.Version != "4.0.18" {
		t.Fatalf("got chart %s-%s", ch.Metadata.Name, ch.Metadata.Version)
	}
	// The archive is cached: a second load works without the repository.
	cached, _ := filepath.Glob(filepath.Join(c.CacheDir, "repository", "*", nfsChart+"-4.0.18.tgz"))
	if len(cached) != 1 {
		t.Fatalf("want the chart cached once under %s, found %v", c.CacheDir, cached)
	}
	// A run reads a repository's index once (the cached archive is checked against its digest),
	// another run or other access reads it again, a failed read is not kept; the archive is
	// downloaded once.
	indexReads, chartReads, failIndex := 0, 0, false
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "index.yaml") {
			indexReads++
			if failIndex {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
		} else {
			chartReads++
		}
		http.Redirect(w, r, repoURL+r.URL.Path, http.StatusFound)
	}))
	defer counting.Close()
	s.Chart.Repo = counting.URL
	run := NewClient(nil, nil)
	run.CacheDir = c.CacheDir
	for i := 0; i < 2; i++ {
		if _, err := run.LoadChart(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	if indexReads != 1 || chartReads != 0 {
		t.Fatalf("two loads in a run: %d index reads, %d archive downloads through the redirecting mirror; want 1 and 0 (the index lists the first server's URLs, cached)", indexReads, chartReads)
	}
	other := s
	other.Chart.Username = "reader"
	if _, err := run.LoadChart(context.Background(), other); err != nil || indexReads != 2 {
		t.Fatalf("another access in the same run: %d index reads, want 2 (%v)", indexReads, err)
	}
	next := NewClient(nil, nil)
	next.CacheDir = c.CacheDir
	failIndex = true
	if _, err := next.LoadChart(context.Background(), s); err == nil || indexReads != 3 {
		t.Fatalf("index down: %d index reads, err %v; want 3 and an error", indexReads, err)
	}
	failIndex = false
	if _, err := next.LoadChart(context.Background(), s); err != nil || indexReads != 4 {
		t.Fatalf("index back: %d index reads, err %v; want 4 (the failure not kept)", indexReads, err)
	}

	// Upstream's "v"-prefixed versions resolve with or without the "v".
	for _, v := range []string{"v26.7.0", "26.7.0"} {
		s := Spec{ChartName: "gpu-operator", Chart: core.ChartSource{Repo: repoURL, Version: v}}
		if ch, err := c.LoadChart(context.Background(), s); err != nil || ch.Metadata.Version != "v26.7.0" {
			t.Fatalf("gpu-operator %s: %v", v, err)
		}
	}

	// A semver range resolves through the index.
	s = Spec{ChartName: "metallb", Chart: core.ChartSource{Repo: repoURL, Version: "^0.15.0"}}
	if ch, err = c.LoadChart(context.Background(), s); err != nil || ch.Metadata.Version != "0.15.3" {
		t.Fatalf("range ^0.15.0: %v %v", ch, err)
	}
}

func TestLoadChartBadInput(t *testing.T) {
	repoURL := testbed.ChartRepo(t)
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	cases := []struct {
		name string
		s    Spec
		want []string
	}{
		{"unknown version", Spec{ChartName: nfsChart, Chart: core.ChartSource{Repo: repoURL, Version: "4.0.99"}},
			[]string{`no version "4.0.99"`, "4.0.18", "--chart-version"}},
		{"unknown chart", Spec{ChartName: "nope", Chart: core.ChartSource{Repo: repoURL, Version: "1.0.0"}},
			[]string{`chart "nope" is not in repository`}},
		{"missing local chart", Spec{Chart: core.ChartSource{Chart: filepath.Join(t.TempDir(), "missing.tgz")}},
			[]string{"missing.tgz", "oci://"}},
		{"empty repo", Spec{ChartName: nfsChart}, []string{"--chart-repo is empty"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.LoadChart(context.Background(), tc.s)
			if !core.IsUsageError(err) {
				t.Fatalf("want a usage error (exit 2), got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestLoadChartLocalAndURL(t *testing.T) {
	repoURL := testbed.ChartRepo(t)
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	ch, err := c.LoadChart(context.Background(), Spec{Chart: core.ChartSource{Chart: repoURL + "/metallb-0.15.3.tgz"}})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Metadata.Name != "metallb" || len(ch.Dependencies()) == 0 {
		t.Fatalf("got %s with %d subcharts", ch.Metadata.Name, len(ch.Dependencies()))
	}

	local := filepath.Join(testbed.FixturesDir(t), "charts", "gpu-operator-v26.7.0.tgz")
	ch, err = c.LoadChart(context.Background(), Spec{Chart: core.ChartSource{Chart: local, Version: "ignored"}})
	if err != nil {
		t.Fatal(err)
	}
	crds, err := chartCRDs(ch)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, o := range crds {
		if o.GetKind() != "CustomResourceDefinition" {
			t.Errorf("crds/ object %s is a %s", o.GetName(), o.GetKind())
		}
		names[o.GetName()] = true
	}
	// Its own crds/ and the node-feature-discovery subchart's.
	for _, want := range []string{"clusterpolicies.nvidia.com", "nodefeaturerules.nfd.k8s-sigs.io"} {
		if !names[want] {
			t.Errorf("CRD %s missing from %d parsed objects", want, len(crds))
		}
	}
}

func TestUserValuesPrecedence(t *testing.T) {
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, []byte("nfs:\n  path: /from-file\n  mountOptions: [nfsvers=4]\nreplicaCount: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Spec{
		Values: map[string]any{"nfs": map[string]any{"server": "127.0.0.1", "path": "/own"}},
		Chart:  core.ChartSource{ValuesFiles: []string{f}, Set: []string{"replicaCount=3"}},
	}
	got, err := userValues(s)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"nfs": map[string]any{"server": "127.0.0.1", "path": "/from-file", "mountOptions": []any{"nfsvers=4"}}, "replicaCount": 3}
	if !equalValues(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s.Values["nfs"].(map[string]any)["path"] != "/own" {
		t.Fatal("the command's own values were modified")
	}
	for _, bad := range []Spec{
		{Chart: core.ChartSource{ValuesFiles: []string{f + ".missing"}}},
		{Chart: core.ChartSource{Set: []string{"a[=1"}}},
	} {
		if _, err := userValues(bad); !core.IsUsageError(err) {
			t.Errorf("%+v: want a usage error, got %v", bad.Chart, err)
		}
	}
}

func TestNearVersions(t *testing.T) {
	all := []string{"4.0.1", "4.0.10", "4.0.18", "4.0.2", "3.0.0", "4.0.17", "not-semver"}
	got := strings.Join(nearVersions(all, "4.0.16", 3), ",")
	if got != "4.0.17,4.0.10,4.0.2" {
		t.Fatalf("near 4.0.16: %s", got)
	}
	if got := strings.Join(nearVersions(all, "latest", 2), ","); got != "4.0.18,4.0.17" {
		t.Fatalf("newest: %s", got)
	}
}

func TestChartCRDsCachedDecodeAsParsed(t *testing.T) {
	c := NewClient(nil, nil)
	c.CacheDir = t.TempDir()
	local := filepath.Join(testbed.FixturesDir(t), "charts", "gpu-operator-v26.7.0.tgz")
	ch, err := c.LoadChart(context.Background(), Spec{Chart: core.ChartSource{Chart: local}})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := chartCRDs(ch)
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.chartCRDsCached(ch)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := filepath.Glob(filepath.Join(c.CacheDir, "crds", "*.cbor"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v, want one", entries)
	}
	cached, err := c.chartCRDsCached(ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range [][]*unstructured.Unstructured{first, cached} {
		if len(got) != len(parsed) {
			t.Fatalf("%d CRDs, want %d", len(got), len(parsed))
		}
		for i := range parsed {
			if !reflect.DeepEqual(got[i].Object, parsed[i].Object) {
				t.Fatalf("CRD %s from the cache differs from the parsed one (types included)", parsed[i].GetName())
			}
		}
	}
	// An entry that does not decode is parsed again.
	if err := os.WriteFile(entries[0], []byte("not cbor"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := c.chartCRDsCached(ch)
	if err != nil || len(again) != len(parsed) || !reflect.DeepEqual(again[0].Object, parsed[0].Object) {
		t.Fatalf("after a corrupt entry: %d CRDs, %v", len(again), err)
	}
}
