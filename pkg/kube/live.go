package kube

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// liveIndex knows the resourceVersion of existing objects from one metadata-only LIST per
// resource type and namespace, instead of a GET per object. Scopes known to be empty (a namespace
// or a CRD this run created) are not listed at all: a new custom resource type answers its first
// LIST with 429 and "Retry-After: 1" while its watch cache starts, which would stall the apply.
type liveIndex struct {
	mu      sync.Mutex
	lists   map[liveKey]*liveList
	emptyNS map[string]bool
	emptyGR map[schema.GroupResource]bool
}

// markEmptyNamespace records that ns was created by this run, so it holds nothing yet.
func (l *liveIndex) markEmptyNamespace(ns string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.emptyNS == nil {
		l.emptyNS = map[string]bool{}
	}
	l.emptyNS[ns] = true
}

// markEmptyResource records that gr's CRD was created by this run, so no object of it exists.
func (l *liveIndex) markEmptyResource(gr schema.GroupResource) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.emptyGR == nil {
		l.emptyGR = map[schema.GroupResource]bool{}
	}
	l.emptyGR[gr] = true
}

type liveKey struct {
	gvr schema.GroupVersionResource
	ns  string
}

type liveList struct {
	once  sync.Once
	err   error
	items map[string]*metav1.PartialObjectMetadata // name -> metadata
}

// get returns a metadata-only object (name, resourceVersion, managedFields) or nil when it does not exist.
func (l *liveIndex) get(ctx context.Context, c *Clients, gvr schema.GroupVersionResource, ns, name string) (*unstructured.Unstructured, error) {
	md, err := l.meta(ctx, c, gvr, ns, name)
	if err != nil || md == nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	u.SetName(name)
	u.SetNamespace(ns)
	u.SetResourceVersion(md.ResourceVersion)
	u.SetManagedFields(md.ManagedFields)
	return u, nil
}

// meta returns the object's metadata from the type's one LIST, or nil when it does not exist.
func (l *liveIndex) meta(ctx context.Context, c *Clients, gvr schema.GroupVersionResource, ns, name string) (*metav1.PartialObjectMetadata, error) {
	l.mu.Lock()
	if (ns != "" && l.emptyNS[ns]) || l.emptyGR[gvr.GroupResource()] {
		l.mu.Unlock()
		return nil, nil
	}
	if l.lists == nil {
		l.lists = map[liveKey]*liveList{}
	}
	k := liveKey{gvr, ns}
	list, ok := l.lists[k]
	if !ok {
		list = &liveList{}
		l.lists[k] = list
	}
	l.mu.Unlock()
	list.once.Do(func() {
		var res interface {
			List(context.Context, metav1.ListOptions) (*metav1.PartialObjectMetadataList, error)
		}
		if ns == "" {
			res = c.Metadata.Resource(gvr)
		} else {
			res = c.Metadata.Resource(gvr).Namespace(ns)
		}
		got, err := res.List(ctx, metav1.ListOptions{})
		if err != nil {
			list.err = err
			return
		}
		list.items = make(map[string]*metav1.PartialObjectMetadata, len(got.Items))
		for i := range got.Items {
			list.items[got.Items[i].Name] = &got.Items[i]
		}
	})
	if list.err != nil {
		err := list.err
		// Let a retry list again (the API server may have been restarting).
		l.mu.Lock()
		delete(l.lists, k)
		l.mu.Unlock()
		return nil, err
	}
	return list.items[name], nil
}
