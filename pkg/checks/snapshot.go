package checks

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// Snapshot is what the checks of one run see: the server version and, per declared resource
// type, the objects of one LIST (or why there are none), and per declared probe its value. It is
// read-only once collected; the With* methods build it (collector and unit tests alike).
type Snapshot struct {
	// Host is the API server URL.
	Host string
	// Server is the server's version (nil when ServerErr is set).
	Server *version.Info
	// ServerErr is why the server version could not be read (unreachable, unauthorized ...).
	ServerErr error

	mu     sync.Mutex
	lists  map[schema.GroupVersionResource]listResult
	probes map[string]probeResult
	// typed memoizes ListAs: several checks of a section read the same LIST as the same Go
	// type (storage's three checks each look for the provisioners among every Deployment), and
	// the conversion costs more than the LIST's decode.
	typed map[typedKey]any
}

type typedKey struct {
	gvr schema.GroupVersionResource
	typ reflect.Type
}

type listResult struct {
	items []unstructured.Unstructured
	err   error
}

type probeResult struct {
	value any
	err   error
}

// NotServedError says the API server does not serve a resource type (e.g. its CRD is not
// installed). Lists of such types are recorded with it; test with IsNotServed.
type NotServedError struct {
	GVR schema.GroupVersionResource
}

func (e *NotServedError) Error() string {
	return fmt.Sprintf("%s is not served by this cluster (API or CRD not installed)", gvrString(e.GVR))
}

// IsNotServed tells whether err is a NotServedError.
func IsNotServed(err error) bool {
	_, ok := err.(*NotServedError)
	return ok
}

func gvrString(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Resource + " (" + gvr.Version + ")"
	}
	return gvr.Resource + "." + gvr.Group + " (" + gvr.Version + ")"
}

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot {
	return &Snapshot{lists: map[schema.GroupVersionResource]listResult{}, probes: map[string]probeResult{}}
}

// WithServer records the server version and host.
func (s *Snapshot) WithServer(host string, v *version.Info, err error) *Snapshot {
	s.Host, s.Server, s.ServerErr = host, v, err
	return s
}

// WithItems records the result of listing gvr.
func (s *Snapshot) WithItems(gvr schema.GroupVersionResource, items []unstructured.Unstructured) *Snapshot {
	if items == nil {
		items = []unstructured.Unstructured{}
	}
	return s.setList(gvr, listResult{items: items})
}

// WithObjects records typed objects (e.g. *corev1.Node) as the result of listing gvr; it panics
// if an object cannot be converted (a bug in the test that builds the snapshot).
func (s *Snapshot) WithObjects(gvr schema.GroupVersionResource, objs ...runtime.Object) *Snapshot {
	items := make([]unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			panic(fmt.Sprintf("checks: convert %T: %v", o, err))
		}
		items = append(items, unstructured.Unstructured{Object: m})
	}
	return s.WithItems(gvr, items)
}

// WithNotServed records that the server does not serve gvr.
func (s *Snapshot) WithNotServed(gvr schema.GroupVersionResource) *Snapshot {
	return s.setList(gvr, listResult{err: &NotServedError{GVR: gvr}})
}

// WithListError records that listing gvr failed (e.g. forbidden).
func (s *Snapshot) WithListError(gvr schema.GroupVersionResource, err error) *Snapshot {
	return s.setList(gvr, listResult{err: err})
}

// WithProbe records a probe's value or error.
func (s *Snapshot) WithProbe(name string, value any, err error) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probes[name] = probeResult{value: value, err: err}
	return s
}

func (s *Snapshot) setList(gvr schema.GroupVersionResource, r listResult) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists[gvr] = r
	for k := range s.typed {
		if k.gvr == gvr {
			delete(s.typed, k)
		}
	}
	return s
}

// List returns the listed objects of gvr, or why there are none: a *NotServedError, the LIST's
// error, or an error saying the check did not declare gvr in its Resources.
func (s *Snapshot) List(gvr schema.GroupVersionResource) ([]unstructured.Unstructured, error) {
	s.mu.Lock()
	r, ok := s.lists[gvr]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%s was not collected: declare it in the check's Resources", gvrString(gvr))
	}
	return r.items, r.err
}

// ListAs returns the objects of gvr converted to the Go type T (e.g. corev1.Node). The
// conversion is done once per snapshot and type; each caller gets its own slice (the objects'
// maps and slices are shared: checks only read them).
func ListAs[T any](s *Snapshot, gvr schema.GroupVersionResource) ([]T, error) {
	key := typedKey{gvr, reflect.TypeFor[T]()}
	s.mu.Lock()
	memo, ok := s.typed[key]
	s.mu.Unlock()
	if ok {
		return slices.Clone(memo.([]T)), nil
	}
	items, err := s.List(gvr)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(items))
	for i := range items {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(items[i].Object, &out[i]); err != nil {
			return nil, fmt.Errorf("decode %s %s: %w", gvrString(gvr), items[i].GetName(), err)
		}
	}
	s.mu.Lock()
	if s.typed == nil {
		s.typed = map[typedKey]any{}
	}
	s.typed[key] = out
	s.mu.Unlock()
	return slices.Clone(out), nil
}

// Probe returns a probe's value or error.
func (s *Snapshot) Probe(name string) (any, error) {
	s.mu.Lock()
	r, ok := s.probes[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("probe %q was not run: declare it in the check's Probes", name)
	}
	return r.value, r.err
}

// ProbeAs returns a probe's value as T.
func ProbeAs[T any](s *Snapshot, name string) (T, error) {
	var zero T
	v, err := s.Probe(name)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("probe %q returned %T, want %T", name, v, zero)
	}
	return t, nil
}
