package tls

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
)

func items(t *testing.T, docs ...string) []unstructured.Unstructured {
	t.Helper()
	var out []unstructured.Unstructured
	for _, d := range docs {
		u := unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

func record(t *testing.T, st *ingress.State) string {
	t.Helper()
	u, err := ingress.StateObject(st)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := yaml.Marshal(u.Object)
	return string(b)
}

const (
	policyOpen = `{apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: istio-ingressgateway-require-jwt, namespace: istio-system},
  spec: {action: DENY, rules: [{to: [{operation: {notPaths: ["/dex/*", "/.well-known/acme-challenge/*"]}}]}]}}`
	policyShut = `{apiVersion: security.istio.io/v1beta1, kind: AuthorizationPolicy, metadata: {name: istio-ingressgateway-oauth2-proxy, namespace: istio-system},
  spec: {action: CUSTOM, rules: [{to: [{operation: {notPaths: ["/dex/*"]}}]}]}}`
	gatewayRedirect = `{apiVersion: networking.istio.io/v1alpha3, kind: Gateway, metadata: {name: kubeflow-gateway, namespace: kubeflow},
  spec: {servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], tls: {httpsRedirect: true}}]}}`
	certReady = `{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: kubeflow-domain-cert-prod, namespace: istio-system},
  status: {conditions: [{type: Ready, status: "True"}], renewalTime: "2030-01-01T00:00:00Z"}}`
	certPending = `{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: kubeflow-domain-cert-prod, namespace: istio-system},
  status: {conditions: [{type: Ready, status: "False", reason: DoesNotExist, message: Issuing certificate as Secret does not exist}]}}`
)

// Every tls check can fail, and says so for the case a user would meet.
func TestChecksFail(t *testing.T) {
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	acme := &ingress.State{Domain: "kf.example.org", Mode: ingress.ACME, SecretName: "kubeflow-domain-cert-prod", Certificate: "kubeflow-domain-cert-prod", Issuer: "letsencrypt-prod"}
	cert := CertInfo{DNSNames: []string{"kf.example.org"}, NotBefore: now.AddDate(0, -3, 0), NotAfter: now.AddDate(0, 2, 0)}
	for _, c := range []struct {
		name   string
		served Served
		lists  map[string][]string
		want   map[string]checks.Severity
	}{
		{"not configured", Served{Now: now}, nil,
			map[string]checks.Severity{"TLS-001": checks.Info, "TLS-002": checks.Info, "TLS-003": checks.Info, "TLS-004": checks.Info, "TLS-005": checks.Info}},
		{"secret missing", Served{Now: now, Secret: "s", Missing: true, Hosts: []string{"kf.example.org"}}, nil,
			map[string]checks.Severity{"TLS-001": checks.Error, "TLS-002": checks.Info}},
		{"expired", Served{Now: now, Secret: "s", Hosts: []string{"kf.example.org"}, Cert: CertInfo{DNSNames: cert.DNSNames, NotAfter: now.Add(-time.Hour)}}, nil,
			map[string]checks.Severity{"TLS-001": checks.OK, "TLS-002": checks.Error}},
		{"expiring", Served{Now: now, Secret: "s", Hosts: []string{"kf.example.org"}, Cert: CertInfo{DNSNames: cert.DNSNames, NotAfter: now.Add(48 * time.Hour)}}, nil,
			map[string]checks.Severity{"TLS-002": checks.Warn}},
		{"wrong host", Served{Now: now, Secret: "s", Hosts: []string{"kf.example.org", "*.kf.example.org"}, Cert: cert}, nil,
			map[string]checks.Severity{"TLS-002": checks.Error}},
		{"acme blocked and redirected", Served{Now: now, Secret: "s", Hosts: []string{"kf.example.org"}, Cert: cert},
			map[string][]string{"cm": {record(t, acme)}, "pol": {policyOpen, policyShut}, "gw": {gatewayRedirect}, "cert": {certPending}},
			map[string]checks.Severity{"TLS-002": checks.OK, "TLS-003": checks.Error, "TLS-004": checks.Error, "TLS-005": checks.Error}},
		{"acme fine", Served{Now: now, Secret: "s", Hosts: []string{"kf.example.org"}, Cert: cert},
			map[string][]string{"cm": {record(t, acme)}, "pol": {policyOpen}, "gw": {}, "cert": {certReady}},
			map[string]checks.Severity{"TLS-001": checks.OK, "TLS-002": checks.OK, "TLS-003": checks.OK, "TLS-004": checks.OK, "TLS-005": checks.OK}},
	} {
		s := checks.NewSnapshot().WithProbe(servedProbe.Name, c.served, nil).
			WithItems(ConfigMapsGVR, items(t, c.lists["cm"]...)).
			WithItems(AuthPoliciesGVR, items(t, c.lists["pol"]...)).
			WithItems(GatewaysGVR, items(t, c.lists["gw"]...)).
			WithItems(CertificatesGVR, items(t, c.lists["cert"]...))
		got := map[string]checks.Severity{}
		for _, r := range checks.Evaluate(s, Checks()) {
			got[r.ID] = r.Severity
		}
		for id, sev := range c.want {
			if got[id] != sev {
				t.Errorf("%s: %s = %s, want %s", c.name, id, got[id], sev)
			}
		}
	}
}
