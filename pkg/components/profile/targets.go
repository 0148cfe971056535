package profile

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// notInstalled is the message when the cluster does not serve Kubeflow's kinds.
const notInstalled = "Kubeflow is not installed (run `kubectl flexigrobots kubeflow`)"

// Inventory is what decides the targets: the names of the Profiles and the metadata of every
// namespace, from one metadata-only LIST each.
type Inventory struct {
	// Profiles are the Profile names (a Profile owns the namespace of its own name).
	Profiles map[string]bool
	// Namespaces are every namespace's metadata, by name.
	Namespaces map[string]*metav1.PartialObjectMetadata
}

// Target is one profile namespace to give the PodDefault.
type Target struct {
	Namespace string
	// WebhookLabel tells whether the namespace carries app.kubernetes.io/part-of=kubeflow-profile,
	// without which the admission webhook does not apply PodDefaults there.
	WebhookLabel bool
}

// CheckInstalled fails with exit code 2 when the cluster does not serve Profiles and PodDefaults.
func CheckInstalled(c *kube.Clients) error {
	for _, k := range []struct {
		kind string
		gvr  schema.GroupVersionResource
	}{{"PodDefault", PodDefaultsGVR}, {"Profile", ProfilesGVR}} {
		_, err := c.Mapper.RESTMapping(schema.GroupKind{Group: k.gvr.Group, Kind: k.kind}, k.gvr.Version)
		if meta.IsNoMatchError(err) {
			return core.UsageErrorf("%s: this cluster does not serve %s.%s/%s (its CRD %s.%s is absent)", notInstalled, k.kind, k.gvr.Group, k.gvr.Version, k.gvr.Resource, k.gvr.Group)
		}
		if err != nil {
			return fmt.Errorf("profile: look up %s.%s: %w", k.kind, k.gvr.Group, err)
		}
	}
	return nil
}

// LoadInventory lists the Profiles and the namespaces (metadata only, one LIST each, retried
// while the API server is unavailable).
func LoadInventory(ctx context.Context, c *kube.Clients) (*Inventory, error) {
	inv := &Inventory{Profiles: map[string]bool{}, Namespaces: map[string]*metav1.PartialObjectMetadata{}}
	var profiles, namespaces *metav1.PartialObjectMetadataList
	err := kube.Retry(ctx, func(ctx context.Context) error {
		var err error
		profiles, err = c.Metadata.Resource(ProfilesGVR).List(ctx, metav1.ListOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("profile: list Profiles: %w", err)
	}
	err = kube.Retry(ctx, func(ctx context.Context) error {
		var err error
		namespaces, err = c.Metadata.Resource(NamespacesGVR).List(ctx, metav1.ListOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("profile: list namespaces: %w", err)
	}
	for _, p := range profiles.Items {
		inv.Profiles[p.Name] = true
	}
	for i := range namespaces.Items {
		inv.Namespaces[namespaces.Items[i].Name] = &namespaces.Items[i]
	}
	return inv, nil
}

// AllProfiles returns a target per Profile whose namespace exists, and the names of the Profiles
// whose namespace does not exist yet (the profile controller has not created it), both sorted.
// A namespace being deleted is no target.
func (inv *Inventory) AllProfiles() (targets []Target, pending []string) {
	for _, name := range sortedKeys(inv.Profiles) {
		ns, ok := inv.Namespaces[name]
		if !ok || ns.DeletionTimestamp != nil {
			pending = append(pending, name)
			continue
		}
		targets = append(targets, targetOf(ns))
	}
	return targets, pending
}

// Resolve checks that every name is an existing profile namespace and returns their targets. An
// error (exit code 2) lists every name that is not, saying why and whose namespace it is.
func (inv *Inventory) Resolve(names []string) ([]Target, error) {
	var targets []Target
	var problems []string
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if p := inv.problem(name); p != "" {
			problems = append(problems, p)
			continue
		}
		targets = append(targets, targetOf(inv.Namespaces[name]))
	}
	if len(problems) > 0 {
		return nil, core.UsageErrorf("profile poddefault: nothing changed:\n  - %s\n  profile namespaces here: %s (kubectl get profiles)",
			strings.Join(problems, "\n  - "), inv.profileNamespaceList())
	}
	return targets, nil
}

// problem says why name is not a profile namespace ("" when it is one).
func (inv *Inventory) problem(name string) string {
	ns, exists := inv.Namespaces[name]
	switch {
	case !exists && inv.Profiles[name]:
		return fmt.Sprintf("namespace %q of Profile %s does not exist yet: Kubeflow's profile controller creates it (kubectl -n kubeflow logs deploy/profiles-deployment); re-run when it exists, or keep `--all-profiles --watch` running", name, name)
	case !exists:
		return fmt.Sprintf("namespace %q does not exist", name)
	case ns.DeletionTimestamp != nil:
		return fmt.Sprintf("namespace %q is being deleted", name)
	case inv.Profiles[name]:
		return ""
	}
	return fmt.Sprintf("namespace %q is not a profile's namespace: no Profile %s exists; %s", name, name, whose(ns))
}

// whose says who a namespace that no Profile owns belongs to, from what is on it.
func whose(ns *metav1.PartialObjectMetadata) string {
	if owner := ns.Annotations[OwnerAnnotation]; owner != "" {
		return fmt.Sprintf("it is annotated owner=%s (its Profile may have been deleted; create a Profile %s with spec.owner %s to make it one)", owner, ns.Name, owner)
	}
	for _, ref := range ns.OwnerReferences {
		return fmt.Sprintf("it belongs to %s %s", ref.Kind, ref.Name)
	}
	if by := ns.Labels[kube.ManagedByLabel]; by != "" {
		return fmt.Sprintf("it is managed by %s", by)
	}
	return "it has no owner annotation: nobody's profile"
}

func (inv *Inventory) profileNamespaceList() string {
	targets, _ := inv.AllProfiles()
	if len(targets) == 0 {
		return "none"
	}
	names := make([]string, 0, len(targets))
	for _, t := range targets {
		names = append(names, t.Namespace)
	}
	if len(names) > 10 {
		names = append(names[:10], fmt.Sprintf("... (%d in all)", len(targets)))
	}
	return strings.Join(names, ", ")
}

// IsProfileNamespace tells whether a namespace of that name exists and a Profile owns it.
func (inv *Inventory) IsProfileNamespace(name string) bool { return inv.problem(name) == "" }

func targetOf(ns *metav1.PartialObjectMetadata) Target {
	return Target{Namespace: ns.Name, WebhookLabel: ns.Labels[WebhookLabel] == WebhookLabelValue}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
