package ingress

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

const gatewayYAML = `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata: {name: kubeflow-gateway, namespace: kubeflow}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
`

const policyYAML = `apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {name: istio-ingressgateway-require-jwt, namespace: istio-system}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {notPaths: ["/dex/*", "/dex/**", "/oauth2/*"]}}]
`

const paramsYAML = `apiVersion: v1
kind: ConfigMap
metadata: {name: oidc-authservice-parameters, namespace: istio-system}
data: {SKIP_AUTH_URI: /dex, PORT: "8080"}
`

// Render is idempotent, round-trips to the upstream objects with a nil state, and touches only
// the lists it owns.
func TestRenderRoundTrip(t *testing.T) {
	acme := &State{Domain: "kf.example.org", Mode: ACME, SecretName: "s"}
	manual := &State{Domain: "kf.example.org", Mode: Manual, SecretName: "m", Wildcard: true, HTTPRedirect: true}
	for _, st := range []*State{acme, manual} {
		objs := []*unstructured.Unstructured{obj(t, gatewayYAML), obj(t, policyYAML), obj(t, paramsYAML), obj(t, `{apiVersion: v1, kind: ConfigMap, metadata: {name: other, namespace: istio-system}, data: {SKIP_AUTH_URI: /x}}`)}
		notes, err := Render(objs, st)
		if err != nil || len(notes) == 0 {
			t.Fatalf("%s: render: %v %v", st.Mode, notes, err)
		}
		rendered := []string{yamlOf(t, objs[0]), yamlOf(t, objs[1]), yamlOf(t, objs[2])}
		if again, _ := Render(objs, st); len(again) != 0 {
			t.Fatalf("%s: second render changed %v", st.Mode, again)
		}
		servers, _, _ := unstructured.NestedSlice(objs[0].Object, "spec", "servers")
		if len(servers) != 2 || ServedName(objs[0]) != st.SecretName {
			t.Fatalf("%s: servers %v", st.Mode, servers)
		}
		if HasRedirect(objs[0]) != st.HTTPRedirect {
			t.Fatalf("%s: redirect %v", st.Mode, servers)
		}
		if PolicyExcludesChallenge(objs[1]) != st.ExcludesChallenge() || SkipAuthExcludesChallenge(objs[2]) != st.ExcludesChallenge() {
			t.Fatalf("%s: exclusion wrong:\n%s\n%s", st.Mode, rendered[1], rendered[2])
		}
		if v, _, _ := unstructured.NestedString(objs[3].Object, "data", "SKIP_AUTH_URI"); v != "/x" {
			t.Fatalf("an unrelated ConfigMap was rendered: %s", v)
		}
		if _, err := Render(objs, nil); err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{gatewayYAML, policyYAML, paramsYAML} {
			if got, w := yamlOf(t, objs[i]), yamlOf(t, obj(t, want)); got != w {
				t.Errorf("%s: nil state does not restore upstream:\n%s\nwant\n%s", st.Mode, got, w)
			}
		}
	}
}

func TestSkipAuth(t *testing.T) {
	for _, c := range []struct {
		in      string
		exclude bool
		want    string
	}{
		{"/dex", true, "/dex " + ChallengePrefix},
		{"/dex " + ChallengePrefix, true, "/dex " + ChallengePrefix},
		{"/dex " + ChallengePrefix, false, "/dex"},
		{"/dex", false, "/dex"},
	} {
		if got := SkipAuth(c.in, c.exclude); got != c.want {
			t.Errorf("SkipAuth(%q, %v) = %q, want %q", c.in, c.exclude, got, c.want)
		}
	}
}

func yamlOf(t *testing.T, u *unstructured.Unstructured) string {
	t.Helper()
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ServedName is the credentialName of the rendered HTTPS server (test helper).
func ServedName(gw *unstructured.Unstructured) string {
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	for _, s := range servers {
		if n, _, _ := unstructured.NestedString(s.(map[string]any), "tls", "credentialName"); n != "" {
			return n
		}
	}
	return ""
}
