package e2e

import (
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
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
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
	p.encrypted = write("encrypted-key.pem", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n")
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
