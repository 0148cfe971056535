// Package registries stands in, on loopback, for the public registries the platform's images
// come from (docker.io, ghcr.io, quay.io, gcr.io, nvcr.io, registry.k8s.io...) and for a site's
// private mirror, with go-containerregistry's in-process registry. Test code only.
//
// The public side is one TLS registry per host, with a certificate for that host from a test CA,
// reached through an HTTP CONNECT proxy that sends every host to its own registry: a process
// given HTTPS_PROXY and SSL_CERT_FILE (Env) pulls "ghcr.io/kubeflow/kfp-driver:2.16.0" exactly as
// it would from GitHub, and nothing leaves the machine. Seed pushes a small synthetic image under
// each upstream name; a reference pinned by digest cannot be seeded (the digest is the upstream
// content's) and is returned apart.
package registries

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// T is what the stand-ins need of their caller: a test's T, or a benchmark's own.
type T interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
	TempDir() string
}

// Upstream is the stand-in for the public registries.
type Upstream struct {
	t      T
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
	proxy  *httptest.Server

	mu    sync.Mutex
	hosts map[string]*httptest.Server // registry host -> its TLS registry
}

// NewUpstream starts the proxy; registries start per host as Seed needs them.
func NewUpstream(t T) *Upstream {
	t.Helper()
	u := &Upstream{t: t, hosts: map[string]*httptest.Server{}}
	u.ca, u.caKey = newCA(t)
	u.caFile = filepath.Join(t.TempDir(), "upstream-ca.crt")
	if err := os.WriteFile(u.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: u.ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	u.proxy = httptest.NewServer(http.HandlerFunc(u.connect))
	t.Cleanup(u.proxy.Close)
	return u
}

// Env is what a process needs to pull through the stand-in: the proxy and the test CA.
func (u *Upstream) Env() []string {
	return []string{"HTTPS_PROXY=" + u.proxy.URL, "https_proxy=" + u.proxy.URL, "SSL_CERT_FILE=" + u.caFile}
}

// CAFile is the test CA's certificate (PEM) that signs every stand-in public registry.
func (u *Upstream) CAFile() string { return u.caFile }

// Seed pushes a small synthetic image (one 256-byte layer) under every reference of refs that
// names a tag; the references pinned by digest are returned (they cannot be seeded).
func (u *Upstream) Seed(refs []string) (pinned []string) {
	u.t.Helper()
	return u.SeedSized(refs, 256, 1)
}

// SeedSized is Seed with images of layers random layers of layerBytes each.
func (u *Upstream) SeedSized(refs []string, layerBytes, layers int64) (pinned []string) {
	u.t.Helper()
	for _, r := range refs {
		ref, err := name.ParseReference(r)
		if err != nil {
			u.t.Fatalf("seed %q: %v", r, err)
		}
		tag, ok := ref.(name.Tag)
		if !ok {
			pinned = append(pinned, r)
			continue
		}
		srv := u.registry(ref.Context().RegistryStr())
		local, err := name.NewTag(strings.TrimPrefix(srv.URL, "https://") + "/" + ref.Context().RepositoryStr() + ":" + tag.TagStr())
		if err != nil {
			u.t.Fatal(err)
		}
		img, err := random.Image(layerBytes, layers)
		if err != nil {
			u.t.Fatal(err)
		}
		if err := remote.Write(local, img, remote.WithTransport(u.transport())); err != nil {
			u.t.Fatalf("seed %s: %v", r, err)
		}
	}
	return pinned
}

// transport trusts the test CA, for seeding the registries directly.
func (u *Upstream) transport() http.RoundTripper {
	pool := x509.NewCertPool()
	pool.AddCert(u.ca)
	return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

// registry is host's TLS registry, started on first use.
func (u *Upstream) registry(host string) *httptest.Server {
	u.mu.Lock()
	defer u.mu.Unlock()
	if srv, ok := u.hosts[host]; ok {
		return srv
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(quiet())))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{u.leaf(host)}, MinVersion: tls.VersionTLS12}
	srv.Config.ErrorLog = quiet() // clients race https against http on loopback: handshakes are cut
	srv.StartTLS()
	u.t.Cleanup(srv.Close)
	u.hosts[host] = srv
	return srv
}

// connect serves CONNECT host:443 by a tunnel to host's registry; any other host is refused.
func (u *Upstream) connect(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(r.Host, ":")
	u.mu.Lock()
	srv, ok := u.hosts[host]
	u.mu.Unlock()
	if r.Method != http.MethodConnect || !ok {
		http.Error(w, "no stand-in registry for "+r.Host, http.StatusBadGateway)
		return
	}
	backend, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		backend.Close()
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		backend.Close()
		return
	}
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		client.Close()
		backend.Close()
		return
	}
	go func() {
		_, _ = io.Copy(backend, buf)
		backend.Close()
	}()
	go func() {
		_, _ = io.Copy(client, backend)
		client.Close()
	}()
}

// Mirror is a site's private registry: TLS from its own certificate and basic auth.
type Mirror struct {
	// Host is host:port; CAFile its certificate (PEM); Username and PasswordFile its login.
	Host, CAFile, Username, PasswordFile string
	// Puts counts the manifest and blob uploads it accepted.
	Puts atomic.Int64
	srv  *httptest.Server
}

// NewMirror starts a private mirror.
func NewMirror(t T) *Mirror {
	t.Helper()
	dir := t.TempDir()
	m := &Mirror{Username: "robot", PasswordFile: filepath.Join(dir, "password")}
	if err := os.WriteFile(m.PasswordFile, []byte("mirror-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Logger(quiet()))
	m.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pw, ok := r.BasicAuth(); !ok || user != m.Username || pw != "mirror-s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="mirror"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPut {
			m.Puts.Add(1)
		}
		reg.ServeHTTP(w, r)
	}))
	m.srv.Config.ErrorLog = quiet()
	m.srv.StartTLS()
	t.Cleanup(m.srv.Close)
	m.Host = strings.TrimPrefix(m.srv.URL, "https://")
	m.CAFile = filepath.Join(dir, "mirror-ca.crt")
	if err := os.WriteFile(m.CAFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

// Flags are the plugin's flags to push to m.
func (m *Mirror) Flags() []string {
	return []string{"--registry-username", m.Username, "--registry-password-file", m.PasswordFile, "--registry-ca-file", m.CAFile}
}

// Options reach m from the test.
func (m *Mirror) Options() []remote.Option {
	return []remote.Option{remote.WithTransport(m.srv.Client().Transport), remote.WithAuth(&authn.Basic{Username: m.Username, Password: "mirror-s3cret"})}
}

func quiet() *log.Logger { return log.New(io.Discard, "", 0) }

func newCA(t T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "upstream registries test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key
}

// leaf is a serving certificate for host (and 127.0.0.1, for seeding), signed by the test CA.
func (u *Upstream) leaf(host string) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		u.t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, u.ca, &key.PublicKey, u.caKey)
	if err != nil {
		u.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Digest is the digest the stand-in serves for ref (a seeded tag).
func (u *Upstream) Digest(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", err
	}
	u.mu.Lock()
	srv, ok := u.hosts[r.Context().RegistryStr()]
	u.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("no stand-in registry for %s", ref)
	}
	local, err := name.ParseReference(strings.TrimPrefix(srv.URL, "https://") + "/" + r.Context().RepositoryStr() + ":" + r.Identifier())
	if err != nil {
		return "", err
	}
	d, err := remote.Head(local, remote.WithTransport(u.transport()))
	if err != nil {
		return "", err
	}
	return d.Digest.String(), nil
}
