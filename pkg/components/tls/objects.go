package tls

import (
	"bytes"
	"encoding/base64"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
)

// Resources `tls` reads and writes.
var (
	ClusterIssuersGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	CertificatesGVR   = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	OrdersGVR         = schema.GroupVersionResource{Group: "acme.cert-manager.io", Version: "v1", Resource: "orders"}
	ChallengesGVR     = schema.GroupVersionResource{Group: "acme.cert-manager.io", Version: "v1", Resource: "challenges"}
	GatewaysGVR       = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "gateways"}
	EnvoyFiltersGVR   = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "envoyfilters"}
	AuthPoliciesGVR   = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}
	ConfigMapsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	SecretsGVR        = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// acmeAccountNamespace is where cert-manager keeps a ClusterIssuer's ACME account key (its
// cluster resource namespace, as Kubeflow installs it).
const acmeAccountNamespace = "cert-manager"

// issuer is the ClusterIssuer of the runbook's 010-issuer.yml for st: ACME with HTTP-01 solved
// through Ingresses of class istio (not ingressClassName: no IngressClass exists in Kubeflow's
// builds).
func issuer(st *ingress.State, email string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": st.Issuer},
		"spec": map[string]any{"acme": map[string]any{
			"server":              st.ACMEServer,
			"email":               email,
			"privateKeySecretRef": map[string]any{"name": st.Issuer},
			"solvers": []any{map[string]any{"http01": map[string]any{
				"ingress": map[string]any{"class": "istio"},
			}}},
		}},
	}}
}

// certificate is the Certificate of st, in istio-system (the gateway reads its Secret there, and
// the solver pod must not sit behind kubeflow's namespace NetworkPolicy).
func certificate(st *ingress.State) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": st.Certificate, "namespace": ingress.IstioNamespace},
		"spec": map[string]any{
			"secretName": st.SecretName,
			"commonName": st.Domain,
			"dnsNames":   []any{st.Domain},
			"issuerRef":  map[string]any{"name": st.Issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
		},
	}}
}

// manualSecret is the runbook's `kubectl create secret tls` Secret. The PEM is stored as one
// file ending in one newline, however the file was saved, so the same certificate always makes
// the same Secret (from the command or the platform file).
func manualSecret(st *ingress.State, certPEM, keyPEM []byte) *unstructured.Unstructured {
	certPEM, keyPEM = pemFile(certPEM), pemFile(keyPEM)
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
		"metadata": map[string]any{"name": st.SecretName, "namespace": ingress.IstioNamespace},
		"data": map[string]any{
			"tls.crt": base64.StdEncoding.EncodeToString(certPEM),
			"tls.key": base64.StdEncoding.EncodeToString(keyPEM),
		},
	}}
}

func pemFile(b []byte) []byte {
	return append(append([]byte{}, bytes.TrimSpace(b)...), '\n')
}
