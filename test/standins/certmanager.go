// CertManager imitates, on the test bed, cert-manager's controller with an ACME CA behind it (as
// Kubeflow installs cert-manager, namespace cert-manager) for Certificates whose issuerRef is a
// ClusterIssuer with spec.acme: it issues the Certificate's Secret only while the HTTP-01
// challenge path http://DOMAIN/.well-known/acme-challenge/TOKEN is reachable through the
// gateway and auth objects the cluster has at that moment (certmanager_paths.go: Kubeflow v1.5's
// authn-filter + authservice SKIP_AUTH_URI as authservice read it at start-up, v1.10's ingress
// AuthorizationPolicies, port-80 redirect), as cert-manager's self check and the CA's validation
// would. Then, as cert-manager 1.16 writes it:
//   - issued: a kubernetes.io/tls Secret (tls.crt signed by a per-test CA, tls.key, ca.crt) with
//     annotation cert-manager.io/certificate-name, and status conditions Ready=True reason Ready
//     "Certificate is up to date and has not expired", notBefore, notAfter, renewalTime at 2/3
//     of the lifetime, revision;
//   - blocked: Ready=False reason DoesNotExist "Issuing certificate as Secret does not exist", and
//     a Challenge (acme.cert-manager.io/v1) for the name whose status says what blocked it;
//   - at renewalTime it issues again under the same rule, with nobody running the plugin.
//
// The solver pod, Service and Ingress cert-manager creates, and Let's Encrypt itself, have no
// counterpart: nothing runs or dials out on the test bed. Lifetime (default 90 days) lets a test
// reach a renewal in seconds; Pause stops all issuing (cert-manager down).
package standins

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

var (
	sCertificatesGVR   = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	sClusterIssuersGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	sChallengesGVR     = schema.GroupVersionResource{Group: "acme.cert-manager.io", Version: "v1", Resource: "challenges"}
)

// CertManager is the stand-in; see the file comment.
type CertManager struct {
	// Lifetime of issued certificates (default 90 days).
	Lifetime time.Duration
	// Paused: while true nothing is issued (cert-manager's controller is down). Pause and
	// Resume set it; Pause also waits for a pass already under way to finish.
	Paused atomic.Bool
	// pass is held for each reconcile pass over the Certificates.
	pass sync.Mutex

	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	caPEM  []byte
}

// NewCertManager returns the stand-in with a fresh CA.
func NewCertManager(lifetime time.Duration) *CertManager {
	if lifetime == 0 {
		lifetime = 90 * 24 * time.Hour
	}
	key, ca, caPEM := newCA("stand-in ACME CA")
	return &CertManager{Lifetime: lifetime, caKey: key, caCert: ca, caPEM: caPEM}
}

// Name says what it imitates.
func (m *CertManager) Name() string {
	return "cert-manager controller + ACME CA (HTTP-01 through the gateway's rules)"
}

// CAPool is the stand-in CA, to verify what it issued.
func (m *CertManager) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(m.caCert)
	return p
}

// Run reconciles every 300ms until ctx ends.
func (m *CertManager) Run(ctx context.Context, c *testbed.Cluster) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		m.reconcileAll(ctx, c, dyn)
	}
}

// reconcileAll is one pass over every Certificate, unless paused.
func (m *CertManager) reconcileAll(ctx context.Context, c *testbed.Cluster, dyn dynamic.Interface) {
	m.pass.Lock()
	defer m.pass.Unlock()
	if m.Paused.Load() {
		return
	}
	certs, err := dyn.Resource(sCertificatesGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return // CRD not there yet
	}
	for i := range certs.Items {
		m.reconcile(ctx, c, dyn, &certs.Items[i])
	}
}

// Pause stops issuing, as a cert-manager controller that went down: when it returns, no pass is
// under way and none starts until Resume.
func (m *CertManager) Pause() {
	m.Paused.Store(true)
	m.pass.Lock()
	defer m.pass.Unlock() // held only to wait out a pass that had started before the flag
}

// Resume lets the next pass issue again.
func (m *CertManager) Resume() { m.Paused.Store(false) }

func (m *CertManager) reconcile(ctx context.Context, c *testbed.Cluster, dyn dynamic.Interface, cert *unstructured.Unstructured) {
	kind, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "kind")
	name, _, _ := unstructured.NestedString(cert.Object, "spec", "issuerRef", "name")
	if kind != "ClusterIssuer" {
		return
	}
	iss, err := dyn.Resource(sClusterIssuersGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return
	}
	if _, ok, _ := unstructured.NestedMap(iss.Object, "spec", "acme"); !ok {
		return
	}
	ns := cert.GetNamespace()
	secretName, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
	dnsNames, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
	if len(dnsNames) == 0 || secretName == "" {
		return
	}
	renewal, _, _ := unstructured.NestedString(cert.Object, "status", "renewalTime")
	rt, perr := time.Parse(time.RFC3339, renewal)
	_, serr := c.Client.CoreV1().Secrets(ns).Get(ctx, secretName, metav1.GetOptions{})
	due := apierrors.IsNotFound(serr) || perr != nil || !time.Now().Before(rt)
	if !due {
		return
	}
	reachable, why := challengeReachable(ctx, c.Client, dyn, dnsNames[0])
	if !reachable {
		m.blocked(ctx, dyn, cert, dnsNames[0], why, apierrors.IsNotFound(serr))
		return
	}
	if err := m.issue(ctx, c, dyn, cert, secretName, dnsNames); err != nil {
		m.setStatus(ctx, dyn, cert, false, "Failed", err.Error(), nil)
	}
}

func (m *CertManager) issue(ctx context.Context, c *testbed.Cluster, dyn dynamic.Interface, cert *unstructured.Unstructured, secretName string, dnsNames []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	now := time.Now().Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: dnsNames[0]}, DNSNames: dnsNames,
		NotBefore: now, NotAfter: now.Add(m.Lifetime), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, m.caCert, &key.PublicKey, m.caKey)
	if err != nil {
		return err
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	data := map[string][]byte{
		"tls.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"tls.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		"ca.crt":  m.caPEM,
	}
	ns := cert.GetNamespace()
	secrets := c.Client.CoreV1().Secrets(ns)
	s, err := secrets.Get(ctx, secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: ns,
			Annotations: map[string]string{"cert-manager.io/certificate-name": cert.GetName()}},
			Type: corev1.SecretTypeTLS, Data: data}
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{FieldManager: "cert-manager-certificates-issuing"})
	} else if err == nil {
		s.Data = data
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{FieldManager: "cert-manager-certificates-issuing"})
	}
	if err != nil {
		return err
	}
	_ = dyn.Resource(sChallengesGVR).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "stand-in/certificate=" + cert.GetName()})
	renew := now.Add(m.Lifetime * 2 / 3)
	m.setStatus(ctx, dyn, cert, true, "Ready", "Certificate is up to date and has not expired", map[string]any{
		"notBefore": now.UTC().Format(time.RFC3339), "notAfter": now.Add(m.Lifetime).UTC().Format(time.RFC3339),
		"renewalTime": renew.UTC().Format(time.RFC3339),
	})
	return nil
}

// blocked records why the challenge cannot pass: on the Certificate (only while it has no Secret:
// an issued one stays Ready until it expires) and on a Challenge.
func (m *CertManager) blocked(ctx context.Context, dyn dynamic.Interface, cert *unstructured.Unstructured, domain, why string, noSecret bool) {
	if noSecret {
		m.setStatus(ctx, dyn, cert, false, "DoesNotExist", "Issuing certificate as Secret does not exist", nil)
	}
	ns := cert.GetNamespace()
	ri := dyn.Resource(sChallengesGVR).Namespace(ns)
	name := cert.GetName() + "-stand-in-challenge"
	ch, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ch = &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"stand-in/certificate": cert.GetName()}},
			"spec": map[string]any{
				"authorizationURL": "https://acme.invalid/authz/1", "url": "https://acme.invalid/chall/1", "dnsName": domain,
				"key": "stand-in-key", "token": "stand-in-token", "type": "HTTP-01",
				"issuerRef": map[string]any{"name": "stand-in", "kind": "ClusterIssuer"},
				"solver":    map[string]any{"http01": map[string]any{"ingress": map[string]any{"class": "istio"}}},
			},
		}}
		if ch, err = ri.Create(ctx, ch, metav1.CreateOptions{}); err != nil {
			return
		}
	} else if err != nil {
		return
	}
	reason := fmt.Sprintf("Waiting for HTTP-01 challenge propagation: %s", why)
	if cur, _, _ := unstructured.NestedString(ch.Object, "status", "reason"); cur == reason {
		return
	}
	_ = unstructured.SetNestedField(ch.Object, "pending", "status", "state")
	_ = unstructured.SetNestedField(ch.Object, reason, "status", "reason")
	_, _ = ri.UpdateStatus(ctx, ch, metav1.UpdateOptions{})
}

func (m *CertManager) setStatus(ctx context.Context, dyn dynamic.Interface, cert *unstructured.Unstructured, ready bool, reason, message string, extra map[string]any) {
	status := map[string]any{}
	if old, ok, _ := unstructured.NestedMap(cert.Object, "status"); ok && !ready {
		status = old // keep the dates of an earlier issuance
	}
	cond := map[string]any{"type": "Ready", "status": "False", "reason": reason, "message": message,
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339), "observedGeneration": cert.GetGeneration()}
	if ready {
		cond["status"] = "True"
		rev, _, _ := unstructured.NestedInt64(cert.Object, "status", "revision")
		status["revision"] = rev + 1
	}
	if conds, _, _ := unstructured.NestedSlice(cert.Object, "status", "conditions"); len(conds) == 1 && !ready {
		c, _ := conds[0].(map[string]any)
		if c["status"] == "False" && c["reason"] == reason {
			return // nothing new to say
		}
	}
	status["conditions"] = []any{cond}
	for k, v := range extra {
		status[k] = v
	}
	cert.Object["status"] = status
	_, _ = dyn.Resource(sCertificatesGVR).Namespace(cert.GetNamespace()).UpdateStatus(ctx, cert, metav1.UpdateOptions{})
}
