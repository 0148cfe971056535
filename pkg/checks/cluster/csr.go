package cluster

import (
	"context"
	"fmt"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/distro"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// CSRSigning is the value of CSRSigningProbe.
type CSRSigning struct {
	// Signed is true when the approved CSR got a certificate within Timeout.
	Signed bool
	// Timeout is how long the probe waited.
	Timeout string
	// Distribution is the cluster's (distro.Detect), for the fix.
	Distribution distro.Distribution
}

// CSRSigningProbe creates a throw-away CertificateSigningRequest, approves it, waits up to
// Env.ProbeTimeout for a certificate, and deletes it (kube.ProbeCSRSigning). It runs only when
// access reviews say the caller may do all of that; otherwise it does not run and CLUSTER-004
// is skipped, naming what it needs.
var CSRSigningProbe = checks.Probe{
	Name:   "csr-signing",
	Writes: true,
	// Only its access reviews: the probe's own rights (kube.CSRProbeRules) are not part of what
	// verify needs, since approving kube-apiserver-client CSRs lets an identity mint a client
	// certificate for any user (cluster-admin in effect). Without them CLUSTER-004 is skipped;
	// kubeflow's declaration holds them (its preflight probes signing).
	Rules: []rbacv1.PolicyRule{access.Rule("authorization.k8s.io", []string{"selfsubjectaccessreviews"}, "create")},
	Run: func(ctx context.Context, env checks.Env) (any, error) {
		var missing []string
		for _, a := range (access.Section{Rules: kube.CSRProbeRules}).Accesses() {
			d, err := review(ctx, env.Client, a)
			if err != nil {
				return nil, err
			}
			if !d.Allowed {
				missing = append(missing, a.Verb+" "+a.Short())
			}
		}
		if len(missing) > 0 {
			return nil, checks.NotAllowed("the CSR-signing probe did not run: %s", strings.Join(missing, ", "))
		}
		signed, err := kube.ProbeCSRSigning(ctx, env.Client, env.ProbeTimeout)
		if err != nil {
			return nil, err
		}
		return CSRSigning{Signed: signed, Timeout: env.ProbeTimeout.String(), Distribution: distro.Detect(ctx, env.Client)}, nil
	},
}

func csrSigning(s *checks.Snapshot) []checks.Result {
	res, err := checks.ProbeAs[CSRSigning](s, CSRSigningProbe.Name)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err,
			"the caller needs create/get/delete on certificatesigningrequests, update on certificatesigningrequests/approval and approve on signers kubernetes.io/kube-apiserver-client (see CLUSTER-005)")}
	}
	if !res.Signed {
		return []checks.Result{checks.Fail(
			fmt.Sprintf("an approved CertificateSigningRequest got no certificate within %s: kube-controller-manager does not sign CSRs (Kubeflow's webhooks and cert-manager need it)", res.Timeout),
			distro.SigningFix(res.Distribution))}
	}
	return []checks.Result{checks.Pass("an approved CertificateSigningRequest was signed (and deleted)")}
}
