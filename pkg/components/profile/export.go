package profile

import (
	"context"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/diff"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Kubeflow's access management (KFAM) marks the objects that make a user a contributor of a
// profile's namespace with these annotations: a RoleBinding to ClusterRole kubeflow-<role> and
// an Istio AuthorizationPolicy of the same name (user-<email>-clusterrole-<role>). The owner's
// own binding (role admin, namespaceAdmin) is the profile controller's, made anew from the
// Profile.
const (
	contributorUser = "user"
	contributorRole = "role"
)

// contributorRoles are the roles KFAM gives contributors.
var contributorRoles = map[string]bool{"edit": true, "view": true}

var (
	roleBindingsGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	authzPolicyGVR  = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}
)

// Export is what a new cluster needs from this one to give the users back their Kubeflow
// profiles: the Profiles (owner, quota, plugins), each contributor KFAM added to a profile's
// namespace (its RoleBinding and AuthorizationPolicy) and the PodDefaults users made there (not
// the section's own, which `profile poddefault` makes anew). Server-set fields are dropped.
type Export struct {
	Objects []*unstructured.Unstructured
	// Profiles, Contributors and PodDefaults count what Objects holds.
	Profiles, Contributors, PodDefaults int
}

// ExportUsers reads the users' Kubeflow objects (see Export), Profiles first, each namespace's
// objects after its Profile.
func ExportUsers(ctx context.Context, c *kube.Clients) (*Export, error) {
	profiles, err := c.Dynamic.Resource(ProfilesGVR).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("no Profiles are served here (no Kubeflow installed): nothing to export")
	}
	if err != nil {
		return nil, fmt.Errorf("list Profiles: %w", err)
	}
	sort.Slice(profiles.Items, func(i, j int) bool { return profiles.Items[i].GetName() < profiles.Items[j].GetName() })
	ex := &Export{}
	for i := range profiles.Items {
		if p := &profiles.Items[i]; !platforms(p) {
			ex.Objects = append(ex.Objects, portable(p))
			ex.Profiles++
		}
	}
	for i := range profiles.Items {
		ns := profiles.Items[i].GetName() // a Profile's namespace is its name
		bindings, err := c.Dynamic.Resource(roleBindingsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list RoleBindings of %s: %w", ns, err)
		}
		policies := map[string]*unstructured.Unstructured{} // by name; none where Istio is not served
		aps, err := c.Dynamic.Resource(authzPolicyGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("list AuthorizationPolicies of %s: %w", ns, err)
		}
		if aps != nil {
			for j := range aps.Items {
				policies[aps.Items[j].GetName()] = &aps.Items[j]
			}
		}
		for j := range bindings.Items {
			rb := &bindings.Items[j]
			a := rb.GetAnnotations()
			if a[contributorUser] == "" || !contributorRoles[a[contributorRole]] {
				continue
			}
			ex.Objects = append(ex.Objects, portable(rb))
			ex.Contributors++
			if ap := policies[rb.GetName()]; ap != nil {
				ex.Objects = append(ex.Objects, portable(ap))
			}
		}
		pds, err := c.Dynamic.Resource(PodDefaultsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("list PodDefaults of %s: %w", ns, err)
		}
		if pds == nil {
			continue
		}
		for j := range pds.Items {
			pd := &pds.Items[j]
			if pd.GetLabels()[kube.ManagedByLabel] == kube.FieldManager || platforms(pd) {
				continue // the section's own: `profile poddefault` makes it on the new cluster
			}
			ex.Objects = append(ex.Objects, portable(pd))
			ex.PodDefaults++
		}
	}
	return ex, nil
}

// platforms tells an object the platform applied (a member of an ApplySet, e.g. the example
// Profile of Kubeflow's build): the new cluster's platform makes it, not the export.
func platforms(o *unstructured.Unstructured) bool {
	return o.GetLabels()[kubectlapply.ApplysetPartOfLabel] != ""
}

// portable is o as `kubectl apply` creates it again elsewhere: diff.Clean's copy (no status, no
// metadata the server writes), without what ties it to this cluster (owner references,
// finalizers, a deletion in progress, a generateName) or kubectl's last-applied annotation.
func portable(o *unstructured.Unstructured) *unstructured.Unstructured {
	out := diff.Clean(o)
	for _, k := range []string{"ownerReferences", "finalizers", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName"} {
		unstructured.RemoveNestedField(out.Object, "metadata", k)
	}
	unstructured.RemoveNestedField(out.Object, "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration")
	if len(out.GetAnnotations()) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "annotations")
	}
	if len(out.GetLabels()) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "labels")
	}
	return out
}
