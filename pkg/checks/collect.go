package checks

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/pager"
)

// Collector gathers the snapshot of one run: the server version first (when the server cannot
// be reached nothing else is tried and every list and probe records that error), then one paged
// LIST per distinct resource type across all namespaces, through the dynamic client as
// unstructured objects, and each distinct probe once, with bounded parallelism. A LIST answered
// 404 means the server does not serve the type and is recorded as a *NotServedError.
type Collector struct {
	Env
	// Parallelism bounds concurrent requests (default 4).
	Parallelism int
}

// Collect builds the snapshot the checks cs need. It never fails: what could not be collected is
// recorded in the snapshot, and the checks that need it report why.
func (c *Collector) Collect(ctx context.Context, cs []Check) *Snapshot {
	s := NewSnapshot()
	var gvrs []schema.GroupVersionResource
	seen := map[schema.GroupVersionResource]bool{}
	var probes []Probe
	seenProbe := map[string]bool{}
	for _, ch := range cs {
		for _, g := range ch.Resources {
			if !seen[g] {
				seen[g] = true
				gvrs = append(gvrs, g)
			}
		}
		for _, p := range ch.Probes {
			if !seenProbe[p.Name] {
				seenProbe[p.Name] = true
				probes = append(probes, p)
			}
		}
	}

	v, err := c.Discovery.ServerVersion()
	if err != nil {
		err = fmt.Errorf("API server %s not reachable: %w", c.Host, err)
		s.WithServer(c.Host, nil, err)
		for _, g := range gvrs {
			s.WithListError(g, err)
		}
		for _, p := range probes {
			s.WithProbe(p.Name, nil, err)
		}
		return s
	}
	s.WithServer(c.Host, v, nil)

	n := c.Parallelism
	if n <= 0 {
		n = 4
	}
	var g errgroup.Group
	g.SetLimit(n)
	// Probes first: the slow ones (a CSR waiting to be signed) then overlap the lists.
	for _, p := range probes {
		g.Go(func() error {
			val, err := runProbe(ctx, c.Env, p)
			s.WithProbe(p.Name, val, err)
			return nil
		})
	}
	for _, gvr := range gvrs {
		g.Go(func() error {
			items, err := c.list(ctx, gvr)
			if err != nil {
				s.WithListError(gvr, err)
			} else {
				s.WithItems(gvr, items)
			}
			return nil
		})
	}
	_ = g.Wait()
	return s
}

func runProbe(ctx context.Context, env Env, p Probe) (val any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("probe %s panicked: %v", p.Name, r)
		}
	}()
	val, err = p.Run(ctx, env)
	if err != nil {
		err = fmt.Errorf("probe %s: %w", p.Name, err)
	}
	return val, err
}

func (c *Collector) list(ctx context.Context, gvr schema.GroupVersionResource) ([]unstructured.Unstructured, error) {
	ri := c.Dynamic.Resource(gvr)
	p := pager.New(pager.SimplePageFunc(func(opts metav1.ListOptions) (runtime.Object, error) {
		return ri.List(ctx, opts)
	}))
	items := []unstructured.Unstructured{}
	err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return fmt.Errorf("unexpected %T in list", obj)
		}
		items = append(items, *u.DeepCopy())
		return nil
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil, &NotServedError{GVR: gvr}
	case err != nil:
		return nil, fmt.Errorf("list %s: %w", gvrString(gvr), err)
	}
	return items, nil
}
