package profile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// SpecDifference compares a live PodDefault's spec with the runbook's and names the first field
// that differs ("spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds is
// 3600, want 7200"); "" when they are equal. Fields the runbook's object does not have are
// differences too.
func SpecDifference(live *unstructured.Unstructured) string {
	spec, found, err := unstructured.NestedFieldNoCopy(live.Object, "spec")
	if err != nil || !found {
		return "spec is missing"
	}
	return difference("spec", DesiredSpec(), spec)
}

// difference walks want and got together (JSON values: maps, lists, scalars) and describes the
// first mismatch at path, in sorted key order so the message is stable.
func difference(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s is %s, want an object", path, describe(got))
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			wv, inWant := w[k]
			gv, inGot := g[k]
			switch {
			case !inGot:
				return fmt.Sprintf("%s.%s is missing, want %s", path, k, describe(wv))
			case !inWant:
				return fmt.Sprintf("%s.%s is %s, the runbook's object has none", path, k, describe(gv))
			}
			if d := difference(path+"."+k, wv, gv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("%s is %s, want a list", path, describe(got))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			if d := difference(path+"["+strconv.Itoa(i)+"]", w[i], g[i]); d != "" {
				return d
			}
		}
		if len(w) != len(g) {
			return fmt.Sprintf("%s has %d entries, want %d", path, len(g), len(w))
		}
		return ""
	}
	if !sameScalar(want, got) {
		return fmt.Sprintf("%s is %s, want %s", path, describe(got), describe(want))
	}
	return ""
}

// sameScalar compares JSON scalars; numbers compare by value whatever their Go type (int64 from
// the API, float64 from some decoders).
func sameScalar(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return a == b
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// describe prints a value for messages, short.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case map[string]any:
		return "an object"
	case []any:
		return fmt.Sprintf("a list of %d", len(x))
	}
	s := fmt.Sprint(v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return strings.TrimSpace(s)
}
