package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Leftovers removes what a helm uninstall leaves on purpose, where removing it loses nothing: the
// release's namespace, when this plugin created it and nothing but what Kubernetes puts in every
// namespace is left there; and the CRDs of the chart's crds/ folders, when this plugin created
// them and no custom resource of theirs is left. Anything else is kept and the result says why.
type Leftovers struct {
	*Clients
	// DryRun is core.DryRunNone, DryRunClient or DryRunServer: nothing is deleted but a server
	// dry run, and the results say what would be.
	DryRun core.DryRunStrategy
	// Wait until what was deleted is gone (a namespace terminates, a CRD's objects are cleaned
	// up), until ctx ends.
	Wait bool
	// Set is the ApplySet ID of the section's own set, uninstalled just before: its members do
	// not count as left (a dry run has not deleted them).
	Set string
}

// createdByUs tells whether this plugin is the only manager of the object's fields (helm's
// CreateNamespace and its crds/ install write under our name, see helm.NewClient); status
// written by its controller (a CRD's conditions by the API server) does not count.
func createdByUs(md metav1.Object) bool {
	ours := false
	for _, e := range md.GetManagedFields() {
		if e.Subresource == "status" || onlyStatus(e.FieldsV1) {
			continue
		}
		if e.Manager != FieldManager {
			return false
		}
		ours = true
	}
	return ours
}

// AfterRelease handles what the uninstall of helm release rel (in namespace, with the crds/ CRDs
// crds; rel may be "" when it was already gone) leaves: the CRDs, then the namespace.
func (l *Leftovers) AfterRelease(ctx context.Context, namespace, rel string, crds []string) ([]output.Result, error) {
	out, err := l.CRDs(ctx, crds, namespace, rel)
	if err != nil {
		return out, err
	}
	res, err := l.Namespace(ctx, namespace, rel)
	if res != nil {
		out = append(out, *res)
	}
	return out, err
}

// onlyStatus tells whether a managed-fields entry holds status fields only (Kubernetes <= 1.21
// records its controllers' status writes without a subresource).
func onlyStatus(f *metav1.FieldsV1) bool {
	if f == nil {
		return false
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(f.Raw, &top); err != nil || len(top) == 0 {
		return false
	}
	for k := range top {
		if k != "f:status" {
			return false
		}
	}
	return true
}

// Namespace deletes namespace when createdByUs and empty (see residents; the objects of helm
// release rel do not count: they go with it, and a dry run has not deleted them); a namespace
// that is not there gives no result.
func (l *Leftovers) Namespace(ctx context.Context, namespace, rel string) (*output.Result, error) {
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	md, err := l.Metadata.Resource(nsGVR).Get(ctx, namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && md.DeletionTimestamp != nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", namespace, err)
	}
	res := &output.Result{Kind: "Namespace", Name: namespace}
	if !createdByUs(md) {
		res.Action, res.Detail = Kept, "not created by "+FieldManager
		return res, nil
	}
	left, err := l.residents(ctx, namespace, rel)
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		more := ""
		if len(left) > 3 {
			more = fmt.Sprintf(" and %d more", len(left)-3)
			left = left[:3]
		}
		res.Action, res.Detail = Kept, "holds "+strings.Join(left, ", ")+more
		return res, nil
	}
	return res, l.delete(ctx, res, nsGVR, "", namespace, "empty, created for the release")
}

// CRDs deletes each named CRD that is createdByUs and holds no custom resource (but those of
// helm release rel of namespace, which go with it).
func (l *Leftovers) CRDs(ctx context.Context, names []string, namespace, rel string) ([]output.Result, error) {
	var out []output.Result
	for _, name := range names {
		md, err := l.Metadata.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && md.DeletionTimestamp != nil) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("read CustomResourceDefinition %s: %w", name, err)
		}
		res := output.Result{Kind: "CustomResourceDefinition", Name: name}
		if !createdByUs(md) {
			res.Action, res.Detail = Kept, "not created by "+FieldManager
			out = append(out, res)
			continue
		}
		resource, group, _ := strings.Cut(name, ".")
		n, err := l.countCustomResources(ctx, name, resource, group, namespace, rel)
		if err != nil {
			return out, err
		}
		if n > 0 {
			res.Action, res.Detail = Kept, fmt.Sprintf("holds %s", output.Count(n, "custom resource"))
			out = append(out, res)
			continue
		}
		if err := l.delete(ctx, &res, crdGVR, "", name, "no custom resource left"); err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// countCustomResources counts the CRD's objects that are not on their way out (being deleted,
// or objects of release rel); one LIST of a served version shows them all.
func (l *Leftovers) countCustomResources(ctx context.Context, crd, resource, group, namespace, rel string) (int, error) {
	live, err := l.Dynamic.Resource(crdGVR).Get(ctx, crd, metav1.GetOptions{})
	if err != nil {
		return 0, fmt.Errorf("read CustomResourceDefinition %s: %w", crd, err)
	}
	versions, _, _ := unstructured.NestedSlice(live.Object, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if served, _ := m["served"].(bool); !served {
			continue
		}
		version, _ := m["name"].(string)
		list, err := l.Metadata.Resource(schema.GroupVersionResource{Group: group, Version: version, Resource: resource}).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("list %s: %w", crd, err)
		}
		n := 0
		for _, o := range list.Items {
			if o.DeletionTimestamp == nil && !ofRelease(&o.ObjectMeta, namespace, rel) {
				n++
			}
		}
		return n, nil
	}
	return 0, nil
}

// residents names what is left in namespace that Kubernetes does not put in every namespace and
// that is not already on its way out: objects being deleted, objects with an owner (garbage
// collected with it), events, Endpoints (derived from Services) and Leases (a controller's
// runtime lock) do not count; nor do ConfigMap kube-root-ca.crt, ServiceAccount default and, on
// Kubernetes 1.21, that ServiceAccount's token Secret.
func (l *Leftovers) residents(ctx context.Context, namespace, rel string) ([]string, error) {
	lists, err := discovery.ServerPreferredNamespacedResources(l.Discovery)
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("discover the namespaced kinds: %w", err)
	}
	var (
		mu   sync.Mutex
		left []string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultParallelism)
	for _, rl := range lists {
		gv, err := schema.ParseGroupVersion(rl.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range rl.APIResources {
			if !slices.Contains(r.Verbs, "list") || ignoredResident(gv.Group, r.Name) {
				continue
			}
			gvr := gv.WithResource(r.Name)
			kind := r.Kind
			g.Go(func() error {
				list, err := l.Metadata.Resource(gvr).Namespace(namespace).List(gctx, metav1.ListOptions{})
				if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
					return nil
				}
				if apierrors.IsForbidden(err) {
					// What cannot be seen may be there: the namespace is kept.
					mu.Lock()
					left = append(left, "what this identity may not list ("+gvr.GroupResource().String()+")")
					mu.Unlock()
					return nil
				}
				if err != nil {
					return fmt.Errorf("list %s in namespace %s: %w", gvr.Resource, namespace, err)
				}
				for _, o := range list.Items {
					if o.DeletionTimestamp != nil || len(o.OwnerReferences) > 0 || everyNamespaceHas(kind, &o.ObjectMeta) || ofRelease(&o.ObjectMeta, namespace, rel) || l.ofSet(&o.ObjectMeta) {
						continue
					}
					mu.Lock()
					left = append(left, kind+" "+o.Name)
					mu.Unlock()
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Strings(left)
	return left, nil
}

// ignoredResident: kinds that never count as something left in a namespace.
func ignoredResident(group, resource string) bool {
	switch group + "/" + resource {
	case "/events", "events.k8s.io/events", "/endpoints", "discovery.k8s.io/endpointslices", "coordination.k8s.io/leases":
		return true
	}
	return false
}

// everyNamespaceHas: what Kubernetes itself puts in every namespace.
func everyNamespaceHas(kind string, md *metav1.ObjectMeta) bool {
	switch kind {
	case "ConfigMap":
		return md.Name == "kube-root-ca.crt"
	case "ServiceAccount":
		return md.Name == "default"
	case "Secret":
		// A ServiceAccount's token (Kubernetes <= 1.23 makes one per account): it goes with its
		// account, which counts on its own.
		return md.Annotations["kubernetes.io/service-account.name"] != ""
	}
	return false
}

// ofSet tells whether an object is a member of the section's own set (see Set).
func (l *Leftovers) ofSet(md *metav1.ObjectMeta) bool {
	return l.Set != "" && md.Labels[kubectlapply.ApplysetPartOfLabel] == l.Set
}

// ofRelease tells whether an object is helm release rel's: one of its objects (helm's ownership
// annotations) or one of its records (Secrets labelled owner=helm, name=rel).
func ofRelease(md *metav1.ObjectMeta, namespace, rel string) bool {
	if rel == "" {
		return false
	}
	if md.Annotations["meta.helm.sh/release-name"] == rel && md.Annotations["meta.helm.sh/release-namespace"] == namespace {
		return true
	}
	return md.Labels["owner"] == "helm" && md.Labels["name"] == rel
}

// delete deletes one leftover (a server dry run asks the API server; a client one only reports).
func (l *Leftovers) delete(ctx context.Context, res *output.Result, gvr schema.GroupVersionResource, ns, name, why string) error {
	res.Action, res.Detail = output.Deleted, why
	opts := metav1.DeleteOptions{}
	switch l.DryRun {
	case core.DryRunClient:
		res.DryRun = l.DryRun
		return nil
	case core.DryRunServer:
		res.DryRun = l.DryRun
		opts.DryRun = []string{metav1.DryRunAll}
	}
	err := Retry(ctx, func(ctx context.Context) error {
		err := l.Metadata.Resource(gvr).Namespace(ns).Delete(ctx, name, opts)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", res.Kind, name, err)
	}
	if !l.Wait || l.DryRun != core.DryRunNone {
		return nil
	}
	err = wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		_, err := l.Metadata.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("%s %s deleted but not gone yet: %w", res.Kind, name, err)
	}
	return nil
}
