// Package ingress renders what `kubeflow` and `tls` both write on Kubeflow's ingress: the
// servers of Gateway kubeflow/kubeflow-gateway and the ACME challenge exclusion in the auth
// allow-list of each Kubeflow version. Its lists are atomic (whoever applies them owns the whole
// list), so both commands produce them with the one function here, from the upstream objects and
// the TLS state recorded in the cluster: whichever runs last keeps both.
package ingress

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
)

// Where the Gateway and the TLS record live.
const (
	GatewayNamespace = "kubeflow"
	GatewayName      = "kubeflow-gateway"
	// IstioNamespace holds the gateway workload, hence every credentialName Secret, the
	// Certificates (their solver pods must not be behind kubeflow's NetworkPolicies) and the record.
	IstioNamespace = "istio-system"
	// StateName is the ConfigMap recording the TLS state (no secret in it).
	StateName = "flexigrobots-tls"
	stateKey  = "state.json"
	// ChallengePrefix is the HTTP-01 challenge path (RFC 8555 section 8.3).
	ChallengePrefix = "/.well-known/acme-challenge/"
)

// Modes of State.
const (
	Manual = "manual"
	ACME   = "acme"
)

// State is what `tls` configured: enough for `kubeflow` to render the same Gateway and allow-list.
type State struct {
	Domain string `json:"domain"`
	// Mode is Manual or ACME.
	Mode string `json:"mode"`
	// SecretName is the kubernetes.io/tls Secret in istio-system the HTTPS server serves.
	SecretName string `json:"secretName"`
	// Wildcard adds *.Domain to the HTTPS server's hosts.
	Wildcard bool `json:"wildcard,omitempty"`
	// HTTPRedirect turns port 80 into a redirect to HTTPS (manual mode only).
	HTTPRedirect bool `json:"httpRedirect,omitempty"`
	// Issuer and Certificate name the ACME ClusterIssuer and the Certificate in istio-system.
	Issuer      string `json:"issuer,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	// ACMEServer is the ACME directory URL.
	ACMEServer string `json:"acmeServer,omitempty"`
}

// ExcludesChallenge tells whether the auth allow-list must let the challenge path through.
func (s *State) ExcludesChallenge() bool { return s != nil && s.Mode == ACME }

// LoadState reads the recorded state; nil (and no error) when TLS is not configured.
func LoadState(ctx context.Context, c kubernetes.Interface) (*State, error) {
	cm, err := c.CoreV1().ConfigMaps(IstioNamespace).Get(ctx, StateName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the TLS state (ConfigMap %s/%s): %w", IstioNamespace, StateName, err)
	}
	return parseState(cm.Data[stateKey])
}

func parseState(data string) (*State, error) {
	var s State
	if err := json.Unmarshal([]byte(data), &s); err != nil || s.Domain == "" {
		return nil, fmt.Errorf("ConfigMap %s/%s holds no valid TLS state (%v): run `kubectl flexigrobots tls` again, or `tls --remove`", IstioNamespace, StateName, err)
	}
	return &s, nil
}

// StateFrom reads the state from the record's ConfigMap as listed (for checks).
func StateFrom(cm *unstructured.Unstructured) (*State, error) {
	data, _, _ := unstructured.NestedString(cm.Object, "data", stateKey)
	return parseState(data)
}

// StateObject is the ConfigMap that records s, for the apply engine.
func StateObject(s *State) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: StateName, Namespace: IstioNamespace},
		Data:       map[string]string{stateKey: string(data)},
	}
	m, err := runtimeToMap(cm)
	return &unstructured.Unstructured{Object: m}, err
}
