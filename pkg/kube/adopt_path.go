package kube

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// lookupField finds the value a field path of a server-side apply conflict names in obj (an
// unstructured object). The path is structured-merge-diff's text form: `.name` for a field (a
// name may itself hold dots: `.data.config.yaml`, resolved against the keys obj has),
// `[k="v",n=1]` for the list item with those keys, `[=value]` for a set's item and `[3]` for an
// index. ok is false where the field is not set; err says the path cannot be read.
func lookupField(obj any, path string) (any, bool, error) {
	if path == "" {
		return obj, true, nil
	}
	switch path[0] {
	case '.':
		m, isMap := obj.(map[string]any)
		if !isMap {
			return nil, false, nil
		}
		rest := path[1:]
		// Longest key first: `.data.config.yaml` is the key "config.yaml" of data, not "config".
		best := -1
		for k := range m {
			if strings.HasPrefix(rest, k) && len(k) > best && (len(rest) == len(k) || rest[len(k)] == '.' || rest[len(k)] == '[') {
				best = len(k)
			}
		}
		if best < 0 {
			return nil, false, nil
		}
		return lookupField(m[rest[:best]], rest[best:])
	case '[':
		end, err := closingBracket(path)
		if err != nil {
			return nil, false, err
		}
		inner, rest := path[1:end], path[end+1:]
		list, isList := obj.([]any)
		if !isList {
			return nil, false, nil
		}
		if n, err := strconv.Atoi(inner); err == nil {
			if n < 0 || n >= len(list) {
				return nil, false, nil
			}
			return lookupField(list[n], rest)
		}
		match, err := itemMatcher(inner)
		if err != nil {
			return nil, false, err
		}
		for _, item := range list {
			if match(item) {
				return lookupField(item, rest)
			}
		}
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("field path %q: want . or [", path)
}

// closingBracket is the index of the `]` that closes the `[` at path[0], skipping quoted strings.
func closingBracket(path string) (int, error) {
	quoted := false
	for i := 1; i < len(path); i++ {
		switch {
		case quoted && path[i] == '\\':
			i++
		case path[i] == '"':
			quoted = !quoted
		case !quoted && path[i] == ']':
			return i, nil
		}
	}
	return 0, fmt.Errorf("field path %q: unclosed [", path)
}

// itemMatcher reads `=value` (a set's item) or `k=v,k2=v2` (a keyed list's item).
func itemMatcher(inner string) (func(any) bool, error) {
	if v, ok := strings.CutPrefix(inner, "="); ok {
		want, err := parseScalar(v)
		if err != nil {
			return nil, err
		}
		return func(item any) bool { return sameScalar(item, want) }, nil
	}
	keys := map[string]any{}
	for rest := inner; rest != ""; {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return nil, fmt.Errorf("field path key %q: want name=value", rest)
		}
		raw, tail, err := scalarPrefix(after)
		if err != nil {
			return nil, err
		}
		v, err := parseScalar(raw)
		if err != nil {
			return nil, err
		}
		keys[name] = v
		rest = strings.TrimPrefix(tail, ",")
	}
	return func(item any) bool {
		m, ok := item.(map[string]any)
		if !ok {
			return false
		}
		for k, want := range keys {
			if !sameScalar(m[k], want) {
				return false
			}
		}
		return true
	}, nil
}

// scalarPrefix splits the scalar at the start of s (a quoted string, or up to the next comma).
func scalarPrefix(s string) (string, string, error) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return s[:i+1], s[i+1:], nil
			}
		}
		return "", "", fmt.Errorf("field path value %q: unclosed quote", s)
	}
	v, rest, _ := strings.Cut(s, ",")
	if rest != "" || strings.HasSuffix(s, ",") {
		rest = "," + rest
	}
	return v, rest, nil
}

// parseScalar reads a key value as structured-merge-diff prints it: a Go-quoted string, a
// number, true/false or null.
func parseScalar(s string) (any, error) {
	if strings.HasPrefix(s, `"`) {
		return strconv.Unquote(s)
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("field path value %q: %w", s, err)
	}
	return v, nil
}

// sameScalar compares a value of an unstructured object (int64, float64, string, bool) with
// one parsed from a path (float64 for every number).
func sameScalar(have, want any) bool {
	switch h := have.(type) {
	case int64:
		f, ok := want.(float64)
		return ok && float64(h) == f
	case int:
		f, ok := want.(float64)
		return ok && float64(h) == f
	}
	return apiequality.Semantic.DeepEqual(have, want)
}
