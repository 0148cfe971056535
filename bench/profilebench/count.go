package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// requestCounter counts the API requests of a client by verb and resource, from the REST paths
// client-go sends (discovery, list, get, watch, apply, create, update, delete ...).
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func newRequestCounter() *requestCounter { return &requestCounter{counts: map[string]int{}} }

// wrap installs the counter in a REST config (as ConfigFlags.WrapConfigFn).
func (rc *requestCounter) wrap(cfg *rest.Config) *rest.Config {
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			rc.add(verbAndResource(req))
			return rt.RoundTrip(req)
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (rc *requestCounter) add(key string) {
	rc.mu.Lock()
	rc.counts[key]++
	rc.mu.Unlock()
}

// total is the number of requests counted.
func (rc *requestCounter) total() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, v := range rc.counts {
		n += v
	}
	return n
}

// perObjectGets counts GETs of single objects (not discovery, not the CSR probe's own object).
func (rc *requestCounter) perObjectGets() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := map[string]int{}
	for k, v := range rc.counts {
		if strings.HasPrefix(k, "get ") {
			out[k] = v
		}
	}
	return out
}

// String prints "verb resource: n" lines, sorted.
func (rc *requestCounter) String() string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	keys := make([]string, 0, len(rc.counts))
	for k := range rc.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "    %-58s %d\n", k, rc.counts[k])
	}
	return b.String()
}

// verbAndResource names a request as the API server's audit log would: "list namespaces",
// "get poddefaults.kubeflow.org", "apply poddefaults.kubeflow.org", "discovery".
func verbAndResource(req *http.Request) string {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var rest []string
	group := ""
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		group, rest = parts[1], parts[3:]
	default:
		return "discovery " + req.URL.Path
	}
	if len(rest) == 0 {
		return "discovery " + req.URL.Path
	}
	if rest[0] == "namespaces" && len(rest) >= 3 {
		rest = rest[2:] // namespaced: namespaces/{ns}/{resource}[/{name}[/{sub}]]
	}
	resource := rest[0]
	if group != "" {
		resource += "." + group
	}
	named := len(rest) >= 2
	if len(rest) >= 3 {
		resource += "/" + rest[2]
	}
	q := req.URL.Query()
	verb := strings.ToLower(req.Method)
	switch req.Method {
	case http.MethodGet:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1":
			verb = "watch"
		case named:
			verb = "get"
		default:
			verb = "list"
		}
	case http.MethodPatch:
		if req.Header.Get("Content-Type") == "application/apply-patch+yaml" {
			verb = "apply"
		} else {
			verb = "patch"
		}
	case http.MethodPost:
		verb = "create"
	case http.MethodPut:
		verb = "update"
	}
	if q.Get("dryRun") != "" {
		verb += " (dry run)"
	}
	return verb + " " + resource
}
