package helm

import (
	"strings"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
)

// diffMode tells whether this Ensure runs for --diff: a server-side dry run whose changes are
// recorded instead of reported.
func (c *Client) diffMode(s Spec) bool { return c.Diff != nil && s.DryRun == cmdutil.DryRunServer }

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
		for k, o := range c.manifestObjects(namespace, old.Manifest) {
			before[k] = o
		}
	}
	after := c.manifestObjects(namespace, rel.Manifest)
	for k, o := range after {
		c.Diff.Record(before[k], o)
		delete(before, k)
	}
	for _, o := range before {
		c.Diff.Record(o, nil)
	}
}

// manifestObjects parses a release manifest into objects keyed by kind, namespace and name; a
// namespaced object without a namespace gets the release's (as helm installs it).
func (c *Client) manifestObjects(namespace, manifest string) map[string]*unstructured.Unstructured {
	mapper, _ := c.getter.ToRESTMapper()
	out := map[string]*unstructured.Unstructured{}
	for _, doc := range releaseutil.SplitManifests(manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil || u.Object == nil || u.GetKind() == "" {
			continue
		}
		if u.GetNamespace() == "" && mapper != nil {
			gvk := u.GroupVersionKind()
			if m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil && m.Scope.Name() == meta.RESTScopeNameNamespace {
				u.SetNamespace(namespace)
			}
		}
		out[u.GroupVersionKind().GroupKind().String()+"/"+u.GetNamespace()+"/"+u.GetName()] = u
	}
	return out
}
