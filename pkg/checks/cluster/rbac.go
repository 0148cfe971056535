package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"
	authzv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

// Sections returns the access declarations CLUSTER-005 reviews: verify's own (derived from
// the registered checks) and each command section's. It is a function so that verify's can be
// derived once every check is registered.
type Sections func() []access.Section

// AccessDecision is the answer of one SelfSubjectAccessReview.
type AccessDecision struct {
	Access  access.Access `json:"access"`
	Allowed bool          `json:"allowed"`
	Reason  string        `json:"reason,omitempty"`
}

// accessProbeName is the snapshot key of the access reviews.
const accessProbeName = "access-review"

// accessProbe asks the API server, with one SelfSubjectAccessReview per distinct permission of
// the sections, whether the caller (the kubeconfig user, or --as) may do it. Value:
// []AccessDecision, in access.Union order.
func accessProbe(sections Sections) checks.Probe {
	return checks.Probe{
		Name:  accessProbeName,
		Rules: []rbacv1.PolicyRule{access.Rule("authorization.k8s.io", []string{"selfsubjectaccessreviews"}, "create")},
		Run: func(ctx context.Context, env checks.Env) (any, error) {
			all := access.Union(sections()...)
			out := make([]AccessDecision, len(all))
			var g errgroup.Group
			g.SetLimit(8)
			for i, a := range all {
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
}

// review asks the API server, with one SelfSubjectAccessReview, whether the caller may do a.
func review(ctx context.Context, client kubernetes.Interface, a access.Access) (AccessDecision, error) {
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

// rbacAccess names, per section, the permissions the caller lacks: one error per section it
// could not run, or one note for a read-only identity (every write refused, some read allowed:
// made for verify, which is not a finding).
func rbacAccess(sections Sections) func(s *checks.Snapshot) []checks.Result {
	return func(s *checks.Snapshot) []checks.Result {
		ds, err := checks.ProbeAs[[]AccessDecision](s, accessProbeName)
		if err != nil {
			return []checks.Result{checks.CannotEvaluate(err, "the caller must be able to create selfsubjectaccessreviews.authorization.k8s.io (every authenticated user can by default)")}
		}
		allowed := map[access.Access]bool{}
		for _, d := range ds {
			allowed[d.Access] = d.Allowed
		}
		var failed []string
		total := 0
		for _, sec := range sections() {
			var missing []access.Access
			as := sec.Accesses()
			total += len(as)
			for _, a := range as {
				if !allowed[a] {
					missing = append(missing, a)
				}
			}
			if len(missing) > 0 {
				failed = append(failed, fmt.Sprintf("%s: missing %d of %d (%s)", sec.Name, len(missing), len(as), describe(missing)))
			}
		}
		if len(failed) == 0 {
			return []checks.Result{checks.Pass("all %d permissions of every section granted", len(ds))}
		}
		if readOnly(ds) {
			return []checks.Result{checks.Note("read-only identity (it may write nothing the commands write): verify works; the commands would need what it lacks: "+strings.Join(failed, "; "), RBACFix)}
		}
		rs := make([]checks.Result, 0, len(failed))
		for _, f := range failed {
			rs = append(rs, checks.Fail(f, RBACFix))
		}
		return rs
	}
}

// describe groups permissions by resource: "create,delete pods; patch configmaps".
func describe(as []access.Access) string {
	verbs := map[string][]string{}
	var order []string
	for _, a := range as {
		k := a.String()
		if _, ok := verbs[k]; !ok {
			order = append(order, k)
		}
		verbs[k] = append(verbs[k], a.Verb)
	}
	parts := make([]string, 0, len(order))
	for _, k := range order {
		parts = append(parts, strings.Join(verbs[k], ",")+" "+k)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// readOnly tells whether the caller may read (some of what the checks read) and was refused
// every permission that writes: an identity made for verify. One that may read nothing is not:
// its verify checks nothing, which is a finding.
func readOnly(ds []AccessDecision) bool {
	reads := false
	for _, d := range ds {
		if d.Access.Resource == "selfsubjectaccessreviews" { // every authenticated user may: not a write
			continue
		}
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
