package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

// Access is one permission the plugin needs, cluster-wide (all namespaces).
type Access struct {
	Verb        string `json:"verb"`
	Group       string `json:"group,omitempty"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
}

// String is kubectl's resource.group[/subresource] form, with the name when there is one.
func (a Access) String() string {
	s := a.Resource
	if a.Group != "" {
		s += "." + a.Group
	}
	if a.Subresource != "" {
		s += "/" + a.Subresource
	}
	if a.Name != "" {
		s += " " + a.Name
	}
	return s
}

// short is String without the group, as a sentence names it: "signers kubernetes.io/...".
func (a Access) short() string {
	return Access{Resource: a.Resource, Subresource: a.Subresource, Name: a.Name}.String()
}

func needs(group string, resources []string, verbs ...string) []Access {
	var out []Access
	for _, r := range resources {
		res, sub, _ := strings.Cut(r, "/")
		for _, v := range verbs {
			out = append(out, Access{Verb: v, Group: group, Resource: res, Subresource: sub})
		}
	}
	return out
}

// RequiredAccess is what the plugin's commands do, cluster-wide: read, create and server-side
// apply (patch) what the sections install; helm keeps releases in Secrets (update, delete);
// waits read pods and events; the CSR-signing check creates, approves and deletes a CSR.
var RequiredAccess = func() []Access {
	rw := []string{"get", "list", "create", "patch"}
	var a []Access
	a = append(a, needs("", []string{"namespaces", "services", "configmaps", "serviceaccounts", "persistentvolumeclaims"}, rw...)...)
	a = append(a, needs("", []string{"secrets"}, "get", "list", "create", "patch", "update", "delete")...)
	a = append(a, needs("", []string{"nodes", "pods"}, "get", "list")...)
	a = append(a, needs("", []string{"events"}, "list")...)
	a = append(a, needs("apps", []string{"deployments", "statefulsets", "daemonsets"}, rw...)...)
	a = append(a, needs("apiextensions.k8s.io", []string{"customresourcedefinitions"}, rw...)...)
	a = append(a, needs("storage.k8s.io", []string{"storageclasses"}, rw...)...)
	a = append(a, needs("rbac.authorization.k8s.io", []string{"clusterroles", "clusterrolebindings", "roles", "rolebindings"}, rw...)...)
	a = append(a, needs("admissionregistration.k8s.io", []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}, rw...)...)
	a = append(a, csrProbeAccess...)
	return a
}()

// AccessDecision is the answer of one SelfSubjectAccessReview.
type AccessDecision struct {
	Access  Access `json:"access"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason,omitempty"`
}

// AccessProbe asks the API server, with one SelfSubjectAccessReview per entry of RequiredAccess,
// whether the caller (the kubeconfig user, or --as) may do it. Value: []AccessDecision.
var AccessProbe = checks.Probe{
	Name: "access-review",
	Run: func(ctx context.Context, env checks.Env) (any, error) {
		out := make([]AccessDecision, len(RequiredAccess))
		var g errgroup.Group
		g.SetLimit(8)
		for i, a := range RequiredAccess {
			g.Go(func() (err error) {
				out[i], err = review(ctx, env.Client, a)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		return out, nil
	},
}

// review asks the API server, with one SelfSubjectAccessReview, whether the caller may do a.
func review(ctx context.Context, client kubernetes.Interface, a Access) (AccessDecision, error) {
	r, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: a.Verb, Group: a.Group, Resource: a.Resource, Subresource: a.Subresource, Name: a.Name,
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		return AccessDecision{}, fmt.Errorf("SelfSubjectAccessReview for %s %s: %w", a.Verb, a, err)
	}
	return AccessDecision{Access: a, Allowed: r.Status.Allowed, Reason: r.Status.Reason}, nil
}

// RBACFix says how to grant what is missing.
const RBACFix = `ask a cluster admin to grant the missing permissions cluster-wide; the plugin installs cluster-wide
components, so binding cluster-admin is the simple way:
    kubectl create clusterrolebinding flexigrobots-admin --clusterrole=cluster-admin --user=USER
check with: kubectl auth can-i --list`

func rbacAccess(s *checks.Snapshot) []checks.Result {
	ds, err := checks.ProbeAs[[]AccessDecision](s, AccessProbe.Name)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller must be able to create selfsubjectaccessreviews.authorization.k8s.io (every authenticated user can by default)")}
	}
	missing := map[string][]string{}
	n := 0
	for _, d := range ds {
		if !d.Allowed {
			missing[d.Access.String()] = append(missing[d.Access.String()], d.Access.Verb)
			n++
		}
	}
	if n == 0 {
		return []checks.Result{checks.Pass("all %d permissions granted", len(ds))}
	}
	var parts []string
	for res, verbs := range missing {
		parts = append(parts, strings.Join(verbs, ",")+" "+res)
	}
	sort.Strings(parts)
	msg := fmt.Sprintf("missing %d of %d permissions: %s", n, len(ds), strings.Join(parts, "; "))
	if readOnly(ds) {
		// A CI identity bound to `view` verifies; it installs nothing, so that is not a finding.
		return []checks.Result{checks.Note("read-only identity (it may write nothing the commands write): verify works; the commands would need what it lacks, "+msg, RBACFix)}
	}
	return []checks.Result{checks.Fail(msg, RBACFix)}
}

// readOnly tells whether the caller may read (some of what the checks read) and was refused
// every permission that writes: an identity made for verify. One that may read nothing is not:
// its verify checks nothing, which is a finding.
func readOnly(ds []AccessDecision) bool {
	reads := false
	for _, d := range ds {
		switch d.Access.Verb {
		case "get", "list", "watch":
			reads = reads || d.Allowed
		default:
			if d.Allowed {
				return false
			}
		}
	}
	return reads
}
