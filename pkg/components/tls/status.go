package tls

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Status is what `tls status` prints.
type Status struct {
	Configured  bool   `json:"configured"`
	Domain      string `json:"domain,omitempty"`
	Mode        string `json:"mode,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	Certificate string `json:"certificate,omitempty"`
	// Ready is the ACME Certificate's Ready condition, or for a manual certificate whether its
	// Secret holds a valid certificate; Reason says why not.
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
	// NotAfter of the served certificate; RenewalTime is when cert-manager renews it (ACME).
	NotAfter    *time.Time `json:"notAfter,omitempty"`
	RenewalTime *time.Time `json:"renewalTime,omitempty"`
	// GatewaySecret is the Secret the Gateway's HTTPS server serves ("" without one).
	GatewaySecret string `json:"gatewaySecret,omitempty"`
	SecretExists  bool   `json:"secretExists"`
	// ChallengePath is "open", "blocked" or "not needed" (manual mode) for ACME's HTTP-01 path.
	ChallengePath string `json:"challengePath,omitempty"`
}

// ReadStatus reads the TLS state, the Gateway, the Certificate and the served Secret.
func ReadStatus(ctx context.Context, c *kube.Clients) (*Status, error) {
	st, err := ingress.LoadState(ctx, c.Client)
	if err != nil {
		return nil, err
	}
	out := &Status{}
	gw, err := c.Dynamic.Resource(GatewaysGVR).Namespace(ingress.GatewayNamespace).Get(ctx, ingress.GatewayName, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !isNotServed(err) {
		return nil, err
	}
	if gw != nil {
		out.GatewaySecret = ServedSecret(gw)
	}
	if st == nil && out.GatewaySecret == "" {
		return out, nil
	}
	out.Configured = true
	if st != nil {
		out.Domain, out.Mode, out.Issuer, out.Certificate = st.Domain, st.Mode, st.Issuer, st.Certificate
	}
	if out.GatewaySecret != "" {
		s, err := c.Client.CoreV1().Secrets(ingress.IstioNamespace).Get(ctx, out.GatewaySecret, metav1.GetOptions{})
		switch {
		case err == nil:
			out.SecretExists = true
			if info, err := ParseCertificate(s.Data["tls.crt"]); err == nil {
				na := info.NotAfter
				out.NotAfter = &na
				out.Ready = time.Now().Before(na)
			} else {
				out.Reason = "Secret holds no valid certificate: " + err.Error()
			}
		case apierrors.IsNotFound(err):
			out.Reason = fmt.Sprintf("Secret %s/%s does not exist", ingress.IstioNamespace, out.GatewaySecret)
		default:
			return nil, err
		}
	} else {
		out.Reason = "the Gateway has no HTTPS server: run `tls` again"
	}
	out.ChallengePath = "not needed"
	if st == nil || st.Mode != ingress.ACME {
		return out, nil
	}
	cert, err := c.Dynamic.Resource(CertificatesGVR).Namespace(ingress.IstioNamespace).Get(ctx, st.Certificate, metav1.GetOptions{})
	switch {
	case err == nil:
		out.Ready, out.Reason = certificateReady(cert)
		if out.Ready {
			out.Reason = ""
		}
		if rt, err := time.Parse(time.RFC3339, str(cert, "status", "renewalTime")); err == nil {
			out.RenewalTime = &rt
		}
	case apierrors.IsNotFound(err) || isNotServed(err):
		out.Ready, out.Reason = false, fmt.Sprintf("Certificate %s/%s does not exist: run `tls` again", ingress.IstioNamespace, st.Certificate)
	default:
		return nil, err
	}
	out.ChallengePath = "blocked"
	if sh, err := LoadShared(ctx, c.Dynamic); err == nil && challengeOpen(sh.Objects) && gw != nil && !ingress.HasRedirect(gw) {
		out.ChallengePath = "open"
	}
	return out, nil
}

// ServedSecret is the credentialName of the Gateway's HTTPS server ("" when it has none).
func ServedSecret(gw *unstructured.Unstructured) string {
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	for _, s := range servers {
		m, _ := s.(map[string]any)
		if name, _, _ := unstructured.NestedString(m, "tls", "credentialName"); name != "" {
			return name
		}
	}
	return ""
}

// challengeOpen tells whether the allow-list objects let the challenge path through.
func challengeOpen(objs []*unstructured.Unstructured) bool {
	open := false
	for _, o := range objs {
		switch {
		case ingress.IsAuthPolicy(o):
			if !ingress.PolicyExcludesChallenge(o) {
				return false
			}
			open = true
		case ingress.IsAuthserviceParams(o):
			if !ingress.SkipAuthExcludesChallenge(o) {
				return false
			}
			open = true
		}
	}
	return open
}

func str(u *unstructured.Unstructured, path ...string) string {
	v, _, _ := unstructured.NestedString(u.Object, path...)
	return v
}
