package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const tlsDomain = "kubeflow.example.org"

var (
	gatewaysGVR     = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "gateways"}
	envoyFiltersGVR = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "envoyfilters"}
	authzGVR        = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}
	certificatesGVR = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}
	issuersGVR      = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "clusterissuers"}
	challengesGVR   = schema.GroupVersionResource{Group: "acme.cert-manager.io", Version: "v1", Resource: "challenges"}
	configMapsGVR   = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// authObjects is the spec (or data) of every object on Kubeflow's ingress path, by name, as
// JSON; absent objects are left out.
func authObjects(t *testing.T, dyn dynamic.Interface) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range []struct {
		gvr       schema.GroupVersionResource
		ns, name  string
		fieldPath string
	}{
		{gatewaysGVR, "kubeflow", "kubeflow-gateway", "spec"},
		{envoyFiltersGVR, "istio-system", "authn-filter", "spec"},
		{authzGVR, "istio-system", "istio-ingressgateway-oauth2-proxy", "spec"},
		{authzGVR, "istio-system", "istio-ingressgateway-require-jwt", "spec"},
		{configMapsGVR, "istio-system", "oidc-authservice-parameters", "data"},
	} {
		u, err := dyn.Resource(o.gvr).Namespace(o.ns).Get(context.Background(), o.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatalf("get %s/%s: %v", o.ns, o.name, err)
		}
		b, _ := json.Marshal(u.Object[o.fieldPath])
		out[o.gvr.Resource+"/"+o.ns+"/"+o.name] = string(b)
	}
	return out
}

// testPKI writes certificate files for the bad-input table and the good case into dir.
type testPKI struct {
	dir                                      string
	chain, key, otherKey, reversed, leafOnly string
	expired, notYet, wrongDomain, encrypted  string
	notPEM, empty, keyPEM                    string
	leafSerial                               *big.Int
}

func newTestPKI(t *testing.T, domain string) *testPKI {
	t.Helper()
	dir := t.TempDir()
	p := &testPKI{dir: dir}
	now := time.Now()
	rootKey := genKey(t)
	root := mkCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test root"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 365 * 24 * time.Hour)}, nil, rootKey, rootKey)
	interKey := genKey(t)
	inter := mkCert(t, &x509.Certificate{Subject: pkix.Name{CommonName: "test intermediate"}, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(5 * 365 * 24 * time.Hour)}, root, rootKey, interKey)
	leafKey := genKey(t)
	leafTmpl := func(dns []string, nb, na time.Time) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: dns[0]}, DNSNames: dns, NotBefore: nb, NotAfter: na, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	}
	leaf := mkCert(t, leafTmpl([]string{domain}, now.Add(-time.Hour), now.Add(200*24*time.Hour)), inter, interKey, leafKey)
	p.leafSerial = leaf.SerialNumber
	expired := mkCert(t, leafTmpl([]string{domain}, now.Add(-100*24*time.Hour), now.Add(-24*time.Hour)), inter, interKey, leafKey)
	notYet := mkCert(t, leafTmpl([]string{domain}, now.Add(24*time.Hour), now.Add(100*24*time.Hour)), inter, interKey, leafKey)
	wrong := mkCert(t, leafTmpl([]string{"other.example.org"}, now.Add(-time.Hour), now.Add(100*24*time.Hour)), inter, interKey, leafKey)
	keyDER, _ := x509.MarshalECPrivateKey(leafKey)
	p.keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	otherDER, _ := x509.MarshalECPrivateKey(genKey(t))
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	pemOf := func(cs ...*x509.Certificate) string {
		var s string
		for _, c := range cs {
			s += string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		}
		return s
	}
	p.chain = write("chain.pem", pemOf(leaf, inter))
	p.leafOnly = write("leaf.pem", pemOf(leaf))
	p.reversed = write("reversed.pem", pemOf(inter, leaf))
	p.expired = write("expired.pem", pemOf(expired, inter))
	p.notYet = write("notyet.pem", pemOf(notYet, inter))
	p.wrongDomain = write("wrong.pem", pemOf(wrong, inter))
	p.key = write("key.pem", p.keyPEM)
	p.otherKey = write("other-key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: otherDER})))
	//nolint:staticcheck // the legacy PEM encryption is what `openssl ... -des3` still writes
	enc, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte("passphrase"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	p.encrypted = write("encrypted-key.pem", string(pem.EncodeToMemory(enc)))
	p.notPEM = write("not.pem", "this is not a certificate\n")
	p.empty = write("empty.pem", "")
	return p
}

func genKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mkCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey, key *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// probeBlocked proves the stand-in refuses to issue while Kubeflow's auth covers the challenge
// path (a Certificate made by the test, not the plugin).
func probeBlocked(t *testing.T, c *testbed.Cluster, dyn dynamic.Interface) {
	ctx := context.Background()
	iss := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": "probe-acme"},
		"spec": map[string]any{"acme": map[string]any{"server": "https://acme.invalid/directory", "privateKeySecretRef": map[string]any{"name": "probe-acme"},
			"solvers": []any{map[string]any{"http01": map[string]any{"ingress": map[string]any{"class": "istio"}}}}}}}}
	cert := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]any{"name": "probe", "namespace": "istio-system"},
		"spec":     map[string]any{"secretName": "probe-tls", "dnsNames": []any{tlsDomain}, "issuerRef": map[string]any{"name": "probe-acme", "kind": "ClusterIssuer"}}}}
	if _, err := dyn.Resource(issuersGVR).Create(ctx, iss, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(certificatesGVR).Namespace("istio-system").Create(ctx, cert, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = dyn.Resource(certificatesGVR).Namespace("istio-system").Delete(ctx, "probe", metav1.DeleteOptions{})
		_ = dyn.Resource(issuersGVR).Delete(ctx, "probe-acme", metav1.DeleteOptions{})
		_ = dyn.Resource(challengesGVR).Namespace("istio-system").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "stand-in/certificate=probe"})
	}()
	var reason string
	err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		ch, err := dyn.Resource(challengesGVR).Namespace("istio-system").Get(ctx, "probe-stand-in-challenge", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		reason, _, _ = unstructured.NestedString(ch.Object, "status", "reason")
		return reason != "", nil
	})
	if err != nil {
		t.Fatalf("no blocked Challenge for the probe Certificate: %v", err)
	}
	if _, err := c.Client.CoreV1().Secrets("istio-system").Get(ctx, "probe-tls", metav1.GetOptions{}); err == nil {
		t.Fatalf("the stand-in issued although Kubeflow's auth blocks the challenge path")
	}
	t.Logf("blocked as expected: %s", reason)
}

// interruptDuringWait sends SIGINT to a tls run while it waits for the Certificate.
func interruptDuringWait(t *testing.T, c *testbed.Cluster, args []string) {
	t.Helper()
	cmd := exec.Command(testbed.PluginBinary(t), args...)
	cmd.Env = c.Env("NO_COLOR=1")
	var out bytes.Buffer
	errOut := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return strings.Contains(errOut.String(), "waiting for Certificate"), nil
	})
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("tls never reached the Certificate wait: %s", errOut.String())
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	err = cmd.Wait()
	t.Logf("interrupted tls -> %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	if err == nil || !strings.Contains(errOut.String(), "interrupted") {
		t.Fatalf("Ctrl-C: want a failure saying it was interrupted")
	}
}

func assertNoKey(t *testing.T, pki *testPKI, r result) {
	t.Helper()
	body := strings.TrimSpace(strings.SplitN(strings.SplitN(pki.keyPEM, "\n", 2)[1], "\n", 2)[0])
	if strings.Contains(r.stdout+r.stderr, body) {
		t.Fatalf("the private key was printed")
	}
}

func assertUnchanged(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != output.Unchanged {
			t.Errorf("re-run: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
}

// assertHTTPS: the Gateway keeps its port-80 server and serves the Secret over HTTPS.
func assertHTTPS(t *testing.T, dyn dynamic.Interface, secret string) {
	t.Helper()
	gw, err := dyn.Resource(gatewaysGVR).Namespace("kubeflow").Get(context.Background(), "kubeflow-gateway", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	var http, https bool
	for _, s := range servers {
		m := s.(map[string]any)
		port, _, _ := unstructured.NestedInt64(m, "port", "number")
		cred, _, _ := unstructured.NestedString(m, "tls", "credentialName")
		hosts, _, _ := unstructured.NestedStringSlice(m, "hosts")
		http = http || port == 80
		https = https || (port == 443 && cred == secret && len(hosts) == 1 && hosts[0] == tlsDomain)
	}
	if !http || !https {
		t.Fatalf("Gateway servers: want port 80 and 443 from %s, got %v", secret, servers)
	}
}

// assertAuthOn: every auth object of `before` is still there; only the challenge prefix was
// added to the allow-list.
func assertAuthOn(t *testing.T, dyn dynamic.Interface, before map[string]string) {
	t.Helper()
	now := authObjects(t, dyn)
	for k, v := range before {
		if strings.HasPrefix(k, "gateways/") {
			continue
		}
		got, ok := now[k]
		if !ok {
			t.Fatalf("%s was deleted", k)
		}
		if got == v {
			if !strings.Contains(k, "envoyfilters") {
				t.Errorf("%s: the challenge path was not added to its allow-list", k)
			}
			continue
		}
		if strings.Replace(strings.Replace(got, `,"/.well-known/acme-challenge/*"`, "", -1), ` /.well-known/acme-challenge/`, "", -1) != v {
			t.Errorf("%s changed beyond the challenge exclusion:\nbefore %s\nnow    %s", k, v, got)
		}
	}
}

func servedSerial(t *testing.T, c *testbed.Cluster, secret string) string {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets("istio-system").Get(context.Background(), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(s.Data["tls.crt"])
	if b == nil {
		t.Fatalf("Secret %s has no certificate", secret)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber.String()
}

func assertIssuedBy(t *testing.T, c *testbed.Cluster, cm *standins.CertManager, secret string) {
	t.Helper()
	s, err := c.Client.CoreV1().Secrets("istio-system").Get(context.Background(), secret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(s.Data["tls.crt"])
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: cm.CAPool(), DNSName: tlsDomain}); err != nil {
		t.Fatalf("Secret %s is not a certificate for %s from the ACME CA: %v", secret, tlsDomain, err)
	}
}

// tlsObjects are the objects whose resourceVersions a re-run must not move.
func tlsObjects(t *testing.T, c *testbed.Cluster, secret string) []*unstructured.Unstructured {
	t.Helper()
	mk := func(apiVersion, kind, ns, name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName(name)
		return u
	}
	objs := []*unstructured.Unstructured{
		mk("v1", "ConfigMap", "istio-system", "flexigrobots-tls"),
		mk("networking.istio.io/v1alpha3", "Gateway", "kubeflow", "kubeflow-gateway"),
	}
	if secret != "" {
		objs = append(objs, mk("v1", "Secret", "istio-system", secret))
	} else {
		objs = append(objs, mk("cert-manager.io/v1", "ClusterIssuer", "", "letsencrypt-prod"))
	}
	for k := range authObjects(t, dynamic.NewForConfigOrDie(c.Config)) {
		parts := strings.Split(k, "/")
		switch parts[0] {
		case "authorizationpolicies":
			objs = append(objs, mk("security.istio.io/v1beta1", "AuthorizationPolicy", parts[1], parts[2]))
		case "configmaps":
			objs = append(objs, mk("v1", "ConfigMap", parts[1], parts[2]))
		}
	}
	return objs
}
