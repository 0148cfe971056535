package helm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/cachefile"
)

// chartCRDsCached is chartCRDs through a cache in CacheDir: the parsed CRDs in CBOR, keyed by a
// digest of the chart's crds/ files (names and bytes). Every run of a helm section parses its
// chart's CRDs (the API preflight and the CRD apply read them); the GPU operator's are a few
// hundred KB of YAML, about 50 ms of CPU to parse and a few to decode from the cache. An entry
// that does not decode is parsed again; a failure to write one only costs the next run the parse.
func (c *Client) chartCRDsCached(ch *chart.Chart) ([]*unstructured.Unstructured, error) {
	files := ch.CRDObjects()
	if len(files) == 0 || c.CacheDir == "" {
		return chartCRDs(ch)
	}
	h := sha256.New()
	fmt.Fprintf(h, "chart-crds/1\x00")
	for _, f := range files {
		fmt.Fprintf(h, "%d\x00%s\x00%d\x00", len(f.Filename), f.Filename, len(f.File.Data))
		h.Write(f.File.Data)
	}
	file := filepath.Join(c.CacheDir, "crds", hex.EncodeToString(h.Sum(nil))[:32]+".cbor")
	if data, err := os.ReadFile(file); err == nil {
		var objs []map[string]any
		if direct.Unmarshal(data, &objs) == nil && len(objs) > 0 {
			out := make([]*unstructured.Unstructured, len(objs))
			for i, o := range objs {
				out[i] = &unstructured.Unstructured{Object: o}
			}
			return out, nil
		}
	}
	crds, err := chartCRDs(ch)
	if err != nil || len(crds) == 0 {
		return crds, err
	}
	objs := make([]map[string]any, len(crds))
	for i, o := range crds {
		objs[i] = o.Object
	}
	if data, err := direct.Marshal(objs); err == nil {
		_ = cachefile.Write(file, data)
	}
	return crds, nil
}

// served tells whether the RESTMapper maps every served version of every CRD in crds (the
// chart's custom resources will map): true after a re-run that changed no CRD, so the
// discovery it read stays (dropping it costs a download of every group's resources and a
// rewrite of kubectl's discovery cache on disk). Asked after a real apply of crds only: then
// every CRD exists as given, and a mapper that answers from an older disk cache reloads it by
// itself on a kind or version it does not know.
func (c *Client) served(crds []*unstructured.Unstructured) bool {
	m, err := c.getter.ToRESTMapper()
	if err != nil {
		return false
	}
	for _, crd := range crds {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedFieldNoCopy(crd.Object, "spec", "versions") // no copy of the schemas
		list, _ := versions.([]any)
		for _, v := range list {
			v, _ := v.(map[string]any)
			name, _ := v["name"].(string)
			if served, _ := v["served"].(bool); !served {
				continue
			}
			mapping, err := m.RESTMapping(schema.GroupKind{Group: group, Kind: kind}, name)
			if err != nil || mapping.GroupVersionKind.Version != name {
				return false
			}
		}
	}
	return true
}

// forgetDiscovery drops cached discovery and mappings so the chart's custom resources map to the
// CRDs just applied (no "no matches for kind").
func (c *Client) forgetDiscovery() {
	if dc, err := c.getter.ToDiscoveryClient(); err == nil {
		dc.Invalidate()
	}
	if m, err := c.getter.ToRESTMapper(); err == nil {
		if r, ok := m.(meta.ResettableRESTMapper); ok {
			r.Reset()
		}
	}
}
