package kube

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset/typed/apiextensions/v1"
)

// DroppedStoredVersions names, one line each, the CRDs among objs that would drop a version the
// cluster still stores objects in (a version of the live CRD's status.storedVersions missing from
// the new spec.versions): the API server refuses such an update, so an upgrade that needs one
// would stop half way. CRDs the section's apply record says were applied exactly so last time
// are not read (nothing changes for them: a has the section's ApplySet setting, so the hash is of
// the object as its apply sends it); the rest are read in parallel, in protobuf (CRDs are large).
// Absent CRDs are fine.
func (a *Applier) DroppedStoredVersions(ctx context.Context, objs []*unstructured.Unstructured) ([]string, error) {
	a.defaults()
	var crds []*unstructured.Unstructured
	for _, o := range objs {
		if isCRD(o) {
			crds = append(crds, o)
		}
	}
	if crds = a.NotRecorded(ctx, crds); len(crds) == 0 {
		return nil, nil
	}
	client, err := apiextv1.NewForConfig(protobufConfig(a.Config))
	if err != nil {
		return nil, err
	}
	var (
		mu  sync.Mutex
		out []string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.Parallelism)
	for _, o := range crds {
		g.Go(func() error {
			var stored []string
			err := Retry(gctx, func(ctx context.Context) error {
				live, err := client.CustomResourceDefinitions().Get(ctx, o.GetName(), metav1.GetOptions{})
				if err == nil {
					stored = live.Status.StoredVersions
				}
				return err
			})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read CustomResourceDefinition %s: %w", o.GetName(), err)
			}
			if line := droppedLine(o, stored); line != "" {
				mu.Lock()
				out = append(out, line)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// droppedLine says which stored versions the new CRD o lacks, and how to move on ("" if none).
func droppedLine(o *unstructured.Unstructured, stored []string) string {
	var versions []string
	field, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "versions") // no copy of the schemas
	list, _ := field.([]any)
	for _, v := range list {
		if name, _ := v.(map[string]any)["name"].(string); name != "" {
			versions = append(versions, name)
		}
	}
	if v, _, _ := unstructured.NestedString(o.Object, "spec", "version"); v != "" && !slices.Contains(versions, v) {
		versions = append(versions, v) // apiextensions.k8s.io/v1beta1's single version
	}
	if len(versions) == 0 {
		return "" // no versions to compare (the API server defaults them)
	}
	var dropped []string
	for _, s := range stored {
		if !slices.Contains(versions, s) {
			dropped = append(dropped, s)
		}
	}
	if len(dropped) == 0 {
		return ""
	}
	return fmt.Sprintf("CustomResourceDefinition %s: the cluster stores its objects as %s, which the new build no longer defines (it defines %s): the API server would refuse the update half way; migrate the objects to a version it keeps (rewrite each, e.g. with kube-storage-version-migrator) and remove %s from the CRD's status.storedVersions first",
		o.GetName(), strings.Join(dropped, ", "), strings.Join(versions, ", "), strings.Join(dropped, ", "))
}

// NotRecorded returns the objects of objs that the section's apply record does not hold exactly
// as an Apply of a sends them: new, changed, or never applied so. The others were accepted by
// this API server as they are, so a check in front of the apply (a server dry run, a read of the
// live CRD) need not try them again; whether someone changed them since is the apply's to find.
func (a *Applier) NotRecorded(ctx context.Context, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	if len(objs) == 0 {
		return nil
	}
	a.defaults()
	rec := a.loadRecord(ctx)
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if prev, ok := rec.old[Ref(o)]; !ok || prev.Hash != a.sentHash(o) { // Secrets are never recorded
			out = append(out, o)
		}
	}
	return out
}

// sentHash is the record's hash of o as an Apply of a sends it: prepared and, in an ApplySet,
// labelled as a member (see plan and beginApplySet).
func (a *Applier) sentHash(o *unstructured.Unstructured) string {
	c := preparable(o)
	a.prepare(c)
	if a.ApplySet && (a.Unrecorded == nil || !a.Unrecorded(c)) {
		(&applySet{id: ApplySetID(a.Section)}).labelMember(c)
	}
	return desiredHash(c)
}
