// Package diff shows what a server-side dry run would change, object by object, the way
// `kubectl diff` does: the live objects and the dry run's results are written to two folders
// and compared with `diff -u -N` (or $KUBECTL_EXTERNAL_DIFF), through kubectl's own diff
// package. Managed fields, status and what the server sets on every write (resourceVersion,
// generation, uid, creationTimestamp) are left out; Secret values are masked with kubectl's
// masker (a changed value shows as "*** (before)" / "*** (after)").
package diff

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kdiff "k8s.io/kubectl/pkg/cmd/diff"
	"k8s.io/utils/exec"
)

// Recorder collects, while sections run as a dry run, each object's live state and the state the
// dry run says it would have: for --diff (a server-side dry run) and for a dry run's -o json|yaml,
// which prints the objects (see objects.go). It is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	objs map[string]pair
	// order is the file names in the order first recorded (the order the run sends them).
	order []string
}

type pair struct {
	live, merged *unstructured.Unstructured
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{objs: map[string]pair{}} }

// Record notes one object: live is nil for an object that would be created, merged nil for one
// that would be deleted. Both are copied. Recording the same object again replaces it.
func (r *Recorder) Record(live, merged *unstructured.Unstructured) {
	if r == nil || (live == nil && merged == nil) {
		return
	}
	ref := merged
	if ref == nil {
		ref = live
	}
	p := pair{live: Clean(live), merged: Clean(merged)}
	name := fileName(ref)
	r.mu.Lock()
	if _, seen := r.objs[name]; !seen {
		r.order = append(r.order, name)
	}
	r.objs[name] = p
	r.mu.Unlock()
}

// Len is the number of objects recorded.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.objs)
}

// Write writes the unified diff of everything recorded to streams.Out (the diff program's
// errors to streams.ErrOut) and tells whether anything would change.
func (r *Recorder) Write(streams genericiooptions.IOStreams) (bool, error) {
	differ, err := kdiff.NewDiffer("LIVE", "MERGED")
	if err != nil {
		return false, fmt.Errorf("diff: %w", err)
	}
	defer differ.TearDown()
	r.mu.Lock()
	names := make([]string, 0, len(r.objs))
	for n := range r.objs {
		names = append(names, n)
	}
	sort.Strings(names)
	printer := kdiff.Printer{}
	for _, n := range names {
		p := r.objs[n]
		switch {
		case p.merged == nil: // would be deleted: only the LIVE side has a file
			err = differ.From.Print(n, masked(p.live), printer)
		case p.live == nil: // would be created: only the MERGED side has a file
			err = differ.To.Print(n, masked(p.merged), printer)
		default:
			err = differ.Diff(object{name: n, p: p}, printer, false, false)
		}
		if err != nil {
			r.mu.Unlock()
			return false, fmt.Errorf("diff: %s: %w", n, err)
		}
	}
	r.mu.Unlock()
	prog := &kdiff.DiffProgram{Exec: exec.New(), IOStreams: streams}
	err = differ.Run(prog)
	var exit exec.ExitError
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &exit) && exit.ExitStatus() == 1:
		return true, nil
	}
	return false, fmt.Errorf("diff: %w (install diffutils, or set KUBECTL_EXTERNAL_DIFF)", err)
}

// object is one recorded pair as kubectl's diff package reads it.
type object struct {
	name string
	p    pair
}

func (o object) Live() runtime.Object {
	if o.p.live == nil {
		return nil // an untyped nil: the object is new
	}
	return o.p.live
}

func (o object) Merged() (runtime.Object, error) { return o.p.merged, nil }

func (o object) Name() string { return o.name }

// fileName is kubectl diff's name for an object's file: group.version.Kind.namespace.name.
func fileName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	group := ""
	if gvk.Group != "" {
		group = gvk.Group + "."
	}
	return fmt.Sprintf("%s%s.%s.%s.%s", group, gvk.Version, gvk.Kind, u.GetNamespace(), u.GetName())
}

var serverSet = []string{"managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"}

// Clean copies u without status and the metadata the server writes on every create or update
// (managedFields, resourceVersion, generation, uid, creationTimestamp, selfLink): what is left
// is what a writer changes. A Secret's stringData moves into data, as the API server does (so
// kubectl's masker, which reads data, masks it too). nil stays nil.
func Clean(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	c := u.DeepCopy()
	delete(c.Object, "status")
	if md, ok := c.Object["metadata"].(map[string]any); ok {
		for _, k := range serverSet {
			delete(md, k)
		}
	}
	if isSecret(c) {
		if sd, ok := c.Object["stringData"].(map[string]any); ok {
			data, _ := c.Object["data"].(map[string]any)
			if data == nil {
				data = map[string]any{}
			}
			for k, v := range sd {
				s, _ := v.(string)
				data[k] = base64.StdEncoding.EncodeToString([]byte(s))
			}
			c.Object["data"] = data
			delete(c.Object, "stringData")
		}
	}
	return c
}

func isSecret(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == "" && gvk.Version == "v1" && gvk.Kind == "Secret"
}

// masked is u with a Secret's values masked (for an object only one side has).
func masked(u *unstructured.Unstructured) runtime.Object {
	if !isSecret(u) {
		return u
	}
	m, err := kdiff.NewMasker(u, u.DeepCopy())
	if err != nil { // a malformed data field: leave the values out rather than show them
		c := u.DeepCopy()
		delete(c.Object, "data")
		return c
	}
	return m.From()
}
