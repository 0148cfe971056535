package tls

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// pollInterval is how often the waits look again.
const pollInterval = time.Second

// wait for what this run started: the ACME Certificate Ready, then (Kubeflow v1.5) authservice
// Ready, which it gets once it was restarted with the new allow-list and its https OIDC provider
// answers through the HTTPS server.
func (in *installer) waitFor(ctx context.Context, st *ingress.State, sh *Shared) error {
	if st.Mode == ingress.ACME {
		if err := in.waitCertificate(ctx, st); err != nil {
			return err
		}
	}
	if sh.Flavor == Authservice {
		return in.waitAuthservice(ctx)
	}
	return nil
}

func (in *installer) waitAuthservice(ctx context.Context) error {
	w := &kube.Waiter{Clients: in.clients, Progress: in.progress, Label: "tls"}
	err := w.Wait(ctx, []kube.Target{{GVR: kube.StatefulSetsGVR, Namespace: ingress.IstioNamespace, Name: ingress.AuthserviceName}})
	if err != nil {
		return fmt.Errorf("tls: authservice is not Ready (it needs its https OIDC provider to answer through the new HTTPS server): %w (re-run `tls` to wait again)", err)
	}
	return nil
}

// waitCertificate polls the Certificate until it is Ready; when ctx ends first it says why, with
// the Certificate's, Orders' and Challenges' own reasons.
func (in *installer) waitCertificate(ctx context.Context, st *ingress.State) error {
	start := time.Now()
	ri := in.clients.Dynamic.Resource(CertificatesGVR).Namespace(ingress.IstioNamespace)
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		c, err := ri.Get(ctx, st.Certificate, metav1.GetOptions{})
		if err != nil {
			in.progress.Update("tls: waiting for Certificate %s/%s (%v) %s", ingress.IstioNamespace, st.Certificate, err, time.Since(start).Round(time.Second))
			return false, nil
		}
		ready, reason := certificateReady(c)
		if ready {
			return true, nil
		}
		in.progress.Update("tls: waiting for Certificate %s/%s to be Ready (%s) %s", ingress.IstioNamespace, st.Certificate, reason, time.Since(start).Round(time.Second))
		return false, nil
	})
	in.progress.Done()
	if err == nil {
		return nil
	}
	what := "timed out"
	if errors.Is(ctx.Err(), context.Canceled) {
		what = "interrupted"
	}
	ectx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return fmt.Errorf("tls: %s after %s waiting for Certificate %s/%s to be Ready; everything is applied and cert-manager keeps trying: `tls status` shows progress, a re-run waits again:\n%s",
		what, time.Since(start).Round(time.Second), ingress.IstioNamespace, st.Certificate, in.explain(ectx, st))
}

// certificateReady reads the Ready condition cert-manager writes.
func certificateReady(c *unstructured.Unstructured) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
	for _, x := range conds {
		m, _ := x.(map[string]any)
		if m["type"] == "Ready" {
			return m["status"] == "True", fmt.Sprintf("%v: %v", m["reason"], m["message"])
		}
	}
	return false, "no Ready condition yet: is cert-manager running?"
}

// explain lists the reasons cert-manager gives on the Certificate and on the Orders and
// Challenges for the domain.
func (in *installer) explain(ctx context.Context, st *ingress.State) string {
	var lines []string
	c, err := in.clients.Dynamic.Resource(CertificatesGVR).Namespace(ingress.IstioNamespace).Get(ctx, st.Certificate, metav1.GetOptions{})
	if err != nil {
		lines = append(lines, fmt.Sprintf("  - Certificate %s: %v", st.Certificate, err))
	} else {
		conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
		for _, x := range conds {
			m, _ := x.(map[string]any)
			lines = append(lines, fmt.Sprintf("  - Certificate %s: %v=%v %v: %v", st.Certificate, m["type"], m["status"], m["reason"], m["message"]))
		}
		if len(conds) == 0 {
			lines = append(lines, fmt.Sprintf("  - Certificate %s: no conditions: cert-manager has not seen it (is its controller running in namespace cert-manager?)", st.Certificate))
		}
	}
	lines = append(lines, in.acmeReasons(ctx, OrdersGVR, "Order", st.Domain, "spec", "dnsNames")...)
	lines = append(lines, in.acmeReasons(ctx, ChallengesGVR, "Challenge", st.Domain, "spec", "dnsName")...)
	lines = append(lines, fmt.Sprintf("  - HTTP-01 needs http://%s%s<token> to reach cert-manager's solver on port 80 without login: check DNS points at the gateway and `kubectl flexigrobots verify --section tls`", st.Domain, ingress.ChallengePrefix))
	return strings.Join(lines, "\n")
}

// acmeReasons lists state and reason of the kind's objects in istio-system for domain (the
// domain is at path: a list of names on Orders, one name on Challenges).
func (in *installer) acmeReasons(ctx context.Context, gvr schema.GroupVersionResource, kind, domain string, path ...string) []string {
	list, err := in.clients.Dynamic.Resource(gvr).Namespace(ingress.IstioNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return []string{fmt.Sprintf("  - %ss: %v", kind, err)}
	}
	var out []string
	for _, o := range list.Items {
		names, _, _ := unstructured.NestedStringSlice(o.Object, path...)
		if name, ok, _ := unstructured.NestedString(o.Object, path...); ok {
			names = []string{name}
		}
		if !slices.Contains(names, domain) {
			continue
		}
		state, _, _ := unstructured.NestedString(o.Object, "status", "state")
		reason, _, _ := unstructured.NestedString(o.Object, "status", "reason")
		if state == "" {
			state = "pending"
		}
		out = append(out, fmt.Sprintf("  - %s %s: %s %s", kind, o.GetName(), state, reason))
	}
	if len(out) == 0 {
		out = append(out, fmt.Sprintf("  - no %s for %s yet", kind, domain))
	}
	return out
}
