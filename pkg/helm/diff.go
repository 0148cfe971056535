package helm

import (
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// diffMode tells whether this Ensure runs for --diff: a server-side dry run whose changes are
// recorded instead of reported.
func (c *Client) diffMode(s Spec) bool { return c.Diff != nil && s.DryRun == core.DryRunServer }

// recording tells whether this Ensure's dry run records what it would send: for --diff, or for
// a dry run's -o json|yaml that prints the objects (the chart's CRDs through ApplyCRDs, which
// honours the dry run, and the new revision's manifest).
func (c *Client) recording(s Spec) bool { return c.Diff != nil && s.dryRun() }

// recordDiff records, object by object, the deployed release's manifest (none on install)
// against the new revision's, as the helm-diff plugin compares them: an object only the old
// manifest has would be deleted by the upgrade. Hooks and (with HideSecret) the chart's Secrets
// are not in a dry run's manifest, so they are not shown.
func (c *Client) recordDiff(namespace string, old, rel *release.Release) {
	if rel == nil {
		return
	}
	before := map[string]*unstructured.Unstructured{}
	if old != nil {
		before = c.manifestObjects(namespace, old.Manifest)
	}
	for k, o := range c.manifestObjects(namespace, rel.Manifest) {
		c.Diff.Record(before[k], o)
		delete(before, k)
	}
	for _, o := range before {
		c.Diff.Record(o, nil)
	}
}

// manifestObjects parses a release manifest into objects by kube.Ref (see manifestList).
func (c *Client) manifestObjects(namespace, manifest string) map[string]*unstructured.Unstructured {
	objs, _ := c.manifestList(namespace, manifest)
	out := map[string]*unstructured.Unstructured{}
	for _, u := range objs {
		out[kube.Ref(u)] = u
	}
	return out
}

// manifestList parses a release manifest into objects, in order; a namespaced object without a
// namespace gets the release's (as helm installs it).
func (c *Client) manifestList(namespace, manifest string) ([]*unstructured.Unstructured, error) {
	objs, err := kube.DecodeManifests([]byte(manifest))
	mapper, _ := c.getter.ToRESTMapper()
	for _, u := range objs {
		if u.GetNamespace() == "" && mapper != nil {
			gvk := u.GroupVersionKind()
			if m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil && m.Scope.Name() == meta.RESTScopeNameNamespace {
				u.SetNamespace(namespace)
			}
		}
	}
	return objs, err
}
