package ingress

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func gateway(t *testing.T, servers string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(`{apiVersion: networking.istio.io/v1alpha3, kind: Gateway, metadata: {name: kubeflow-gateway, namespace: kubeflow}, spec: {servers: `+servers+`}}`), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestKeepHTTPS: the build's Gateway keeps the HTTPS servers a person added by hand, once; one
// that has its own HTTPS server, or a live one without any, is left as built.
func TestKeepHTTPS(t *testing.T) {
	const http = `{hosts: ["*"], port: {name: http, number: 80, protocol: HTTP}}`
	const https = `{hosts: ["*"], port: {name: https, number: 443, protocol: HTTPS}, tls: {mode: SIMPLE, credentialName: kubeflow-domain-man-cert}}`
	built := gateway(t, "["+http+"]")
	note, err := keepHTTPS(built, gateway(t, "["+http+","+https+"]"))
	servers, _, _ := unstructured.NestedSlice(built.Object, "spec", "servers")
	if err != nil || len(servers) != 2 || !strings.Contains(note, "kept the 1 HTTPS server") {
		t.Fatalf("kept %v, note %q, err %v", servers, note, err)
	}
	if cred, _, _ := unstructured.NestedString(servers[1].(map[string]any), "tls", "credentialName"); cred != "kubeflow-domain-man-cert" {
		t.Errorf("kept server: %v", servers[1])
	}
	if note, _ := keepHTTPS(built, gateway(t, "["+http+","+https+"]")); note != "" {
		t.Errorf("a Gateway with an HTTPS server got more: %q", note)
	}
	plain := gateway(t, "["+http+"]")
	if note, _ := keepHTTPS(plain, gateway(t, "["+http+"]")); note != "" {
		t.Errorf("no live HTTPS server, yet %q", note)
	}
}
