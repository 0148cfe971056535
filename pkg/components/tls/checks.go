package tls

import (
	"context"
	"fmt"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
)

// servedProbe reads the certificate of the Secret the Gateway's HTTPS server serves, by name
// (never a LIST of Secrets): the checks need its names and dates, never the key.
var servedProbe = checks.Probe{Name: "tls-served-certificate", Run: readServed, Rules: []rbacv1.PolicyRule{
	access.Named(GatewaysGVR.Group, []string{GatewaysGVR.Resource}, []string{ingress.GatewayName}, "get"),
	access.Rule("", []string{"secrets"}, "get"), // by name: the Gateway's credentialName
}}

// Served is the value of servedProbe.
type Served struct {
	// Secret is the credentialName ("" when the Gateway has no HTTPS server).
	Secret string
	// Missing: the Secret does not exist. Err: it holds no valid certificate.
	Missing bool
	Err     string
	Cert    CertInfo
	// Hosts of the HTTPS server.
	Hosts []string
	// Now is when it was read (checks are pure: no clock of their own).
	Now time.Time
}

func readServed(ctx context.Context, env checks.Env) (any, error) {
	out := Served{Now: time.Now()}
	gw, err := env.Dynamic.Resource(GatewaysGVR).Namespace(ingress.GatewayNamespace).Get(ctx, ingress.GatewayName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || isNotServed(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out.Secret, out.Hosts = ServedSecret(gw), httpsHosts(gw)
	if out.Secret == "" {
		return out, nil
	}
	s, err := env.Client.CoreV1().Secrets(ingress.IstioNamespace).Get(ctx, out.Secret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		out.Missing = true
	case err != nil:
		return nil, err
	default:
		if out.Cert, err = ParseCertificate(s.Data["tls.crt"]); err != nil {
			out.Err = err.Error()
		}
	}
	return out, nil
}

func httpsHosts(gw *unstructured.Unstructured) []string {
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	for _, s := range servers {
		m, _ := s.(map[string]any)
		if name, _, _ := unstructured.NestedString(m, "tls", "credentialName"); name != "" {
			h, _, _ := unstructured.NestedStringSlice(m, "hosts")
			return h
		}
	}
	return nil
}

const notConfigured = "TLS is not configured (HTTP only)"
const configureFix = "run `kubectl flexigrobots tls --domain D --cert FILE --key FILE` or `... --acme --email E`"

// Checks returns the checks of section "tls", in ID order.
func Checks() []checks.Check {
	gvrs := func(g ...schema.GroupVersionResource) []schema.GroupVersionResource { return g }
	return []checks.Check{
		{ID: "TLS-001", Section: Name, Title: "Gateway HTTPS server and its Secret", Severity: checks.Error, Probes: []checks.Probe{servedProbe},
			Run: httpsServer},
		{ID: "TLS-002", Section: Name, Title: "Served certificate covers the hosts and is valid", Severity: checks.Error, Probes: []checks.Probe{servedProbe},
			Run: servedCertificate},
		{ID: "TLS-003", Section: Name, Title: "ACME Certificate Ready, renewal ahead", Severity: checks.Error, Resources: gvrs(ConfigMapsGVR, CertificatesGVR), Probes: []checks.Probe{servedProbe},
			Run: acmeCertificate},
		{ID: "TLS-004", Section: Name, Title: "ACME challenge path passes the auth allow-list", Severity: checks.Error, Resources: gvrs(ConfigMapsGVR, AuthPoliciesGVR),
			Run: challengeAllowed},
		{ID: "TLS-005", Section: Name, Title: "Port-80 redirect not blocking ACME", Severity: checks.Error, Resources: gvrs(ConfigMapsGVR, GatewaysGVR),
			Run: redirectFree},
	}
}

func served(s *checks.Snapshot) (Served, []checks.Result) {
	v, err := checks.ProbeAs[Served](s, servedProbe.Name)
	if err != nil {
		return v, []checks.Result{checks.CannotEvaluate(err, "the caller needs get on gateways.networking.istio.io in kubeflow and on the served Secret in istio-system")}
	}
	return v, nil
}

func httpsServer(s *checks.Snapshot) []checks.Result {
	v, bad := served(s)
	switch {
	case bad != nil:
		return bad
	case v.Secret == "":
		return []checks.Result{checks.Note(notConfigured, configureFix)}
	case v.Missing:
		return []checks.Result{checks.Fail(fmt.Sprintf("Gateway %s/%s serves Secret %s/%s, which does not exist: HTTPS fails its handshakes", ingress.GatewayNamespace, ingress.GatewayName, ingress.IstioNamespace, v.Secret),
			"ACME: wait for the Certificate (`kubectl flexigrobots tls status`); manual: run `kubectl flexigrobots tls` again with --cert/--key")}
	}
	return []checks.Result{checks.Pass("Gateway %s/%s serves %s from Secret %s/%s", ingress.GatewayNamespace, ingress.GatewayName, strings.Join(v.Hosts, ", "), ingress.IstioNamespace, v.Secret)}
}

func servedCertificate(s *checks.Snapshot) []checks.Result {
	v, bad := served(s)
	switch {
	case bad != nil:
		return bad
	case v.Secret == "":
		return []checks.Result{checks.Note(notConfigured, configureFix)}
	case v.Missing:
		return []checks.Result{checks.Note("no certificate to check yet (its Secret is missing, see TLS-001)", "")}
	case v.Err != "":
		return []checks.Result{checks.Fail(fmt.Sprintf("Secret %s/%s holds no valid certificate: %s", ingress.IstioNamespace, v.Secret, v.Err), "run `kubectl flexigrobots tls` again")}
	}
	for _, h := range v.Hosts {
		if !v.Cert.Covers(h) {
			return []checks.Result{checks.Fail(fmt.Sprintf("the certificate in %s/%s is for %s, not %s", ingress.IstioNamespace, v.Secret, names(v.Cert), h), "use a certificate issued for every host, then run `kubectl flexigrobots tls` again")}
		}
	}
	left := v.Cert.NotAfter.Sub(v.Now)
	switch {
	case left <= 0:
		return []checks.Result{checks.Fail(fmt.Sprintf("the certificate in %s/%s expired on %s", ingress.IstioNamespace, v.Secret, v.Cert.NotAfter.UTC().Format(time.RFC3339)), "renew it and run `kubectl flexigrobots tls` again (ACME: see TLS-003 and TLS-004)")}
	case left < ExpiryWarning:
		return []checks.Result{checks.Warning(fmt.Sprintf("the certificate in %s/%s expires in %d days (%s)", ingress.IstioNamespace, v.Secret, int(left.Hours()/24), v.Cert.NotAfter.UTC().Format(time.RFC3339)), "renew it and run `kubectl flexigrobots tls` again")}
	}
	return []checks.Result{checks.Pass("the certificate covers %s until %s", strings.Join(v.Hosts, ", "), v.Cert.NotAfter.UTC().Format(time.RFC3339))}
}

// state reads the record from the snapshot's ConfigMaps.
func state(s *checks.Snapshot) (*ingress.State, []checks.Result) {
	cms, err := s.List(ConfigMapsGVR)
	if err != nil {
		return nil, []checks.Result{checks.CannotEvaluate(err, "the caller needs list on configmaps")}
	}
	for i := range cms {
		if cms[i].GetNamespace() == ingress.IstioNamespace && cms[i].GetName() == ingress.StateName {
			st, err := ingress.StateFrom(&cms[i])
			if err != nil {
				return nil, []checks.Result{checks.Fail(err.Error(), "")}
			}
			return st, nil
		}
	}
	return nil, nil
}

func acmeOnly(s *checks.Snapshot) (*ingress.State, []checks.Result) {
	st, bad := state(s)
	if bad != nil {
		return nil, bad
	}
	if st == nil || st.Mode != ingress.ACME {
		return nil, []checks.Result{checks.Note("not using ACME", "")}
	}
	return st, nil
}

func acmeCertificate(s *checks.Snapshot) []checks.Result {
	st, res := acmeOnly(s)
	if st == nil {
		return res
	}
	certs, err := s.List(CertificatesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on certificates.cert-manager.io")}
	}
	v, _ := served(s)
	for i := range certs {
		c := &certs[i]
		if c.GetNamespace() != ingress.IstioNamespace || c.GetName() != st.Certificate {
			continue
		}
		ready, reason := certificateReady(c)
		if !ready {
			return []checks.Result{checks.Fail(fmt.Sprintf("Certificate %s/%s is not Ready: %s", ingress.IstioNamespace, st.Certificate, reason),
				"see `kubectl flexigrobots tls status` and `kubectl describe certificate -n istio-system "+st.Certificate+"`; TLS-004 and TLS-005 say whether the challenge can pass")}
		}
		rt, err := time.Parse(time.RFC3339, str(c, "status", "renewalTime"))
		if err != nil {
			return []checks.Result{checks.Warning(fmt.Sprintf("Certificate %s/%s is Ready but has no renewalTime", ingress.IstioNamespace, st.Certificate), "check that cert-manager runs")}
		}
		if !v.Now.IsZero() && rt.Before(v.Now) {
			return []checks.Result{checks.Fail(fmt.Sprintf("Certificate %s/%s should have renewed on %s and has not", ingress.IstioNamespace, st.Certificate, rt.UTC().Format(time.RFC3339)), "check cert-manager's logs and TLS-004")}
		}
		return []checks.Result{checks.Pass("Certificate %s/%s is Ready; cert-manager renews it on %s", ingress.IstioNamespace, st.Certificate, rt.UTC().Format(time.RFC3339))}
	}
	return []checks.Result{checks.Fail(fmt.Sprintf("Certificate %s/%s does not exist", ingress.IstioNamespace, st.Certificate), "run `kubectl flexigrobots tls --acme ...` again")}
}

func challengeAllowed(s *checks.Snapshot) []checks.Result {
	st, res := acmeOnly(s)
	if st == nil {
		return res
	}
	var objs []*unstructured.Unstructured
	cms, _ := s.List(ConfigMapsGVR)
	for i := range cms {
		if ingress.IsAuthserviceParams(&cms[i]) {
			objs = append(objs, &cms[i])
		}
	}
	if pols, err := s.List(AuthPoliciesGVR); err == nil {
		for i := range pols {
			if ingress.IsAuthPolicy(&pols[i]) {
				objs = append(objs, &pols[i])
			}
		}
	} else if !checks.IsNotServed(err) {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on authorizationpolicies.security.istio.io")}
	}
	if len(objs) == 0 {
		return []checks.Result{checks.Fail("neither authservice's ConfigMap nor the ingress AuthorizationPolicies were found", "run `kubectl flexigrobots kubeflow`, then `tls` again")}
	}
	if !challengeOpen(objs) {
		return []checks.Result{checks.Fail(fmt.Sprintf("%s is not let through the auth allow-list: cert-manager's challenge (and so every renewal) fails", ingress.ChallengePrefix),
			"run `kubectl flexigrobots tls --acme ...` again (a `kubeflow` run keeps the exclusion; another tool's apply may have dropped it)")}
	}
	return []checks.Result{checks.Pass("%s passes without login; every other path still needs it", ingress.ChallengePrefix)}
}

func redirectFree(s *checks.Snapshot) []checks.Result {
	st, res := acmeOnly(s)
	if st == nil {
		return res
	}
	gws, err := s.List(GatewaysGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on gateways.networking.istio.io")}
	}
	for i := range gws {
		if ingress.IsGateway(&gws[i]) && ingress.HasRedirect(&gws[i]) {
			return []checks.Result{checks.Fail("Gateway kubeflow/kubeflow-gateway redirects port 80 to HTTPS: the HTTP-01 challenge is answered on port 80 only, so renewals fail",
				"run `kubectl flexigrobots tls --acme ...` again (it removes the redirect)")}
		}
	}
	return []checks.Result{checks.Pass("port 80 serves the challenge path (no HTTPS redirect)")}
}
