package helm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/strvals"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// userValues merges the command's own values, then -f files, then --set (helm's precedence).
// A missing or bad file and a bad --set are usage errors.
func userValues(s Spec) (map[string]any, error) {
	for _, kv := range s.Chart.Set {
		if err := strvals.ParseInto(kv, map[string]any{}); err != nil {
			return nil, core.UsageErrorf("invalid --set %q: %v (want key=value, e.g. --set nfs.path=/exports)", kv, err)
		}
	}
	opts := values.Options{ValueFiles: s.Chart.ValuesFiles, Values: s.Chart.Set}
	override, err := opts.MergeValues(getter.Getters())
	if err != nil {
		return nil, core.UsageErrorf("chart values (-f, --set): %v", err)
	}
	return mergeValues(copyValues(s.Values), override), nil
}

// valuesOf are the values of s for the loaded chart ch: what s.ChartValues computes from ch's
// defaults, under s.Values, then the -f files and --set (userValues).
func valuesOf(ch *chart.Chart, s Spec) (map[string]any, error) {
	if s.ChartValues != nil {
		defaults, err := chartutil.CoalesceValues(ch, map[string]any{})
		if err != nil {
			return nil, fmt.Errorf("helm: chart %s: read its values: %w", ch.Metadata.Name, err)
		}
		extra, err := s.ChartValues(defaults)
		if err != nil {
			return nil, err
		}
		s.Values = mergeValues(extra, s.Values)
	}
	return userValues(s)
}

// mergeValues deep-merges over into base (maps merge key by key, anything else replaces) and
// returns base.
func mergeValues(base, over map[string]any) map[string]any {
	if base == nil {
		base = map[string]any{}
	}
	for k, v := range over {
		if vm, ok := v.(map[string]any); ok {
			if bm, ok := base[k].(map[string]any); ok {
				base[k] = mergeValues(bm, vm)
				continue
			}
		}
		base[k] = copyValue(v)
	}
	return base
}

// copyValues deep-copies a values tree (maps and lists), keeping scalar types as they are.
func copyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyValues(t)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = copyValue(x)
		}
		return out
	}
	return v
}

// equalValues compares two values trees as helm stores them (JSON), so an int from --set equals
// the float64 read back from the release, and an empty map equals none.
func equalValues(a, b map[string]any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

func normalize(v map[string]any) any {
	if len(v) == 0 {
		return nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return string(data)
	}
	return out
}

// sameChart tells whether the deployed chart is the one to install: same name, same version and
// the same top-level templates (a locally edited chart that kept its version still upgrades).
func sameChart(deployed, want *chart.Chart) bool {
	if deployed == nil || deployed.Metadata == nil || want.Metadata == nil {
		return false
	}
	if deployed.Metadata.Name != want.Metadata.Name || deployed.Metadata.Version != want.Metadata.Version {
		return false
	}
	if len(deployed.Templates) != len(want.Templates) {
		return false
	}
	byName := make(map[string][]byte, len(deployed.Templates))
	for _, f := range deployed.Templates {
		byName[f.Name] = f.Data
	}
	for _, f := range want.Templates {
		if d, ok := byName[f.Name]; !ok || !bytes.Equal(d, f.Data) {
			return false
		}
	}
	return true
}

// chartCRDs parses the crds/ files of ch and its subcharts into objects.
func chartCRDs(ch *chart.Chart) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, crd := range ch.CRDObjects() {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(crd.File.Data), 4096)
		for {
			var obj map[string]any
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("helm: chart %s: parse %s: %w", ch.Metadata.Name, crd.Filename, err)
			}
			if len(obj) == 0 {
				continue
			}
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
	return out, nil
}
