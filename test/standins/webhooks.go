package standins

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// InjectorManager is the field manager under which the stand-in writes caBundle, as
// cert-manager's cainjector (or istiod, knative's webhook, MetalLB's cert rotator) writes it on
// a real cluster.
const InjectorManager = "cainjector-standin"

// AdmissionWebhooks imitates the backends of every admission webhook registered in the cluster,
// and the CA injection their real builds rely on. Real cluster: each webhook Service fronts a
// Deployment (cert-manager-webhook, istiod, katib-controller, MetalLB's controller, ...) that
// serves AdmissionReviews over TLS with a certificate for <service>.<namespace>.svc, and an
// injector (cert-manager's cainjector for `cert-manager.io/inject-ca-from*`, or the component
// itself) writes the CA into the configuration's caBundle. Here, for every Mutating/
// ValidatingWebhookConfiguration whose webhook calls a Service that exists:
//   - it listens on that Service's ClusterIP and port (the service CIDR is loopback, so the API
//     server really dials it) once a pod the Service selects is Ready, plus Delay (the gap on a
//     real cluster between a pod's readiness and kube-proxy routing to it); before that the
//     address refuses connections, exactly like a backend that is not up;
//   - it writes its CA into each such webhook's caBundle with an Update, as the injectors do;
//   - it answers every review with allowed, no patch (it judges nothing).
//
// It does not serve CRD conversion webhooks or aggregated APIs.
type AdmissionWebhooks struct {
	// Delay is how long after its first Ready pod a backend starts answering.
	Delay time.Duration

	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	caPEM  []byte

	mu      sync.Mutex
	backend map[string]*webhookBackend // by ClusterIP:port
	calls   map[string]int             // by namespace/service
	early   map[string]bool            // services registered while their backend was not serving
	targets map[string]bool            // services the registered webhooks call, at the last reconcile
}

type webhookBackend struct {
	service    string // namespace/name
	readySince time.Time
	srv        *http.Server
}

// NewAdmissionWebhooks returns the stand-in with a fresh CA.
func NewAdmissionWebhooks(delay time.Duration) *AdmissionWebhooks {
	key, ca, caPEM := newCA("stand-in webhook CA")
	return &AdmissionWebhooks{Delay: delay, caKey: key, caCert: ca, caPEM: caPEM,
		backend: map[string]*webhookBackend{}, calls: map[string]int{}, early: map[string]bool{}}
}

// Name says what it imitates.
func (w *AdmissionWebhooks) Name() string {
	return "admission webhook backends (allow all, served once their pods are Ready) + CA injector"
}

// CAPEM is the CA the stand-in injects into caBundle.
func (w *AdmissionWebhooks) CAPEM() []byte { return w.caPEM }

// Calls is how many AdmissionReviews the backend of Service namespace/name has answered.
func (w *AdmissionWebhooks) Calls(service string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[service]
}

// Served lists the Services (namespace/name) that answered at least one review.
func (w *AdmissionWebhooks) Served() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for s, n := range w.calls {
		if n > 0 {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// RegisteredEarly lists the Services (namespace/name) whose webhook was registered while their
// backend did not serve yet: the race the runbook's "re-run until it succeeds" is about.
func (w *AdmissionWebhooks) RegisteredEarly() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for s := range w.early {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Serving lists the Services (namespace/name) whose backend listens now, and those registered
// webhooks call whose backend does not (a Service the cluster lacks, one without a selector, or
// a workload not Ready yet).
func (w *AdmissionWebhooks) Serving() (up, down []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[string]bool{}
	for _, b := range w.backend {
		if b.srv != nil {
			seen[b.service] = true
		}
	}
	for s := range seen {
		up = append(up, s)
	}
	for s := range w.targets {
		if !seen[s] {
			down = append(down, s)
		}
	}
	sort.Strings(up)
	sort.Strings(down)
	return up, down
}

// Run reconciles every 250ms until ctx ends, then closes every backend.
func (w *AdmissionWebhooks) Run(ctx context.Context, c *testbed.Cluster) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	defer w.closeAll()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		w.reconcile(ctx, c.Client)
	}
}

// webhookTarget is one Service a registered webhook calls.
type webhookTarget struct{ namespace, name string }

func (w *AdmissionWebhooks) reconcile(ctx context.Context, cs kubernetes.Interface) {
	adm := cs.AdmissionregistrationV1()
	mut, err1 := adm.MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	val, err2 := adm.ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
	if err1 != nil || err2 != nil {
		return
	}
	mutCCs := make([][]*admissionv1.WebhookClientConfig, len(mut.Items))
	for i := range mut.Items {
		for j := range mut.Items[i].Webhooks {
			mutCCs[i] = append(mutCCs[i], &mut.Items[i].Webhooks[j].ClientConfig)
		}
	}
	valCCs := make([][]*admissionv1.WebhookClientConfig, len(val.Items))
	for i := range val.Items {
		for j := range val.Items[i].Webhooks {
			valCCs[i] = append(valCCs[i], &val.Items[i].Webhooks[j].ClientConfig)
		}
	}
	targets := map[webhookTarget]bool{}
	for _, ccs := range append(append([][]*admissionv1.WebhookClientConfig{}, mutCCs...), valCCs...) {
		for _, cc := range ccs {
			if cc.Service != nil {
				targets[webhookTarget{cc.Service.Namespace, cc.Service.Name}] = true
			}
		}
	}
	live := map[string]bool{}
	for t := range targets {
		svc, err := cs.CoreV1().Services(t.namespace).Get(ctx, t.name, metav1.GetOptions{})
		if err != nil || svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		ready := selectsReadyPod(ctx, cs, svc)
		for _, p := range svc.Spec.Ports {
			addr := net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(int(p.Port)))
			live[addr] = true
			w.track(addr, t.namespace+"/"+t.name, ready)
		}
	}
	w.mu.Lock()
	w.targets = map[string]bool{}
	for t := range targets {
		w.targets[t.namespace+"/"+t.name] = true
	}
	for addr, b := range w.backend {
		if !live[addr] {
			w.stop(addr, b)
		}
	}
	w.mu.Unlock()
	for i := range mut.Items {
		if w.inject(mutCCs[i]) {
			_, _ = adm.MutatingWebhookConfigurations().Update(ctx, &mut.Items[i], metav1.UpdateOptions{FieldManager: InjectorManager})
		}
	}
	for i := range val.Items {
		if w.inject(valCCs[i]) {
			_, _ = adm.ValidatingWebhookConfigurations().Update(ctx, &val.Items[i], metav1.UpdateOptions{FieldManager: InjectorManager})
		}
	}
}

// inject sets the stand-in CA on every Service-backed webhook of a configuration; it tells
// whether anything changed.
func (w *AdmissionWebhooks) inject(ccs []*admissionv1.WebhookClientConfig) bool {
	changed := false
	for _, c := range ccs {
		if c.Service != nil && !bytes.Equal(c.CABundle, w.caPEM) {
			c.CABundle = w.caPEM
			changed = true
		}
	}
	return changed
}

// selectsReadyPod tells whether a pod the Service selects is Ready (a Service without a
// selector has no workload the stand-in could wait for: never served).
func selectsReadyPod(ctx context.Context, cs kubernetes.Interface, svc *corev1.Service) bool {
	if len(svc.Spec.Selector) == 0 {
		return false
	}
	pods, err := cs.CoreV1().Pods(svc.Namespace).List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(svc.Spec.Selector).String()})
	if err != nil {
		return false
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
	}
	return false
}

// track starts the backend at addr once its workload has been Ready for Delay, and stops it
// when the workload is no longer Ready.
func (w *AdmissionWebhooks) track(addr, service string, ready bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.backend[addr]
	if b == nil || b.srv == nil {
		w.early[service] = true
	}
	switch {
	case !ready && b != nil:
		w.stop(addr, b)
	case ready && b == nil:
		w.backend[addr] = &webhookBackend{service: service, readySince: time.Now()}
	case ready && b.srv == nil && time.Since(b.readySince) >= w.Delay:
		srv, err := w.serve(addr, service)
		if err == nil {
			b.srv = srv
		}
	}
}

func (w *AdmissionWebhooks) stop(addr string, b *webhookBackend) {
	if b.srv != nil {
		_ = b.srv.Close()
	}
	delete(w.backend, addr)
}

func (w *AdmissionWebhooks) closeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for addr, b := range w.backend {
		w.stop(addr, b)
	}
}

// serve listens on addr with a certificate for the Service's DNS names, signed by the stand-in CA.
func (w *AdmissionWebhooks) serve(addr, service string) (*http.Server, error) {
	ns, name, _ := strings.Cut(service, "/")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	host, _, _ := net.SplitHostPort(addr)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name + "." + ns + ".svc"},
		DNSNames:    []string{name, name + "." + ns, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP(host)},
		NotBefore:   time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, w.caCert, &key.PublicKey, w.caKey)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.review(rw, r, service) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		ReadHeaderTimeout: 10 * time.Second,
		// The API server's calls made before the CA was injected fail their handshake, as on a
		// real cluster; that is expected, not worth a log line.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("webhook stand-in %s: %v\n", service, err)
		}
	}()
	return srv, nil
}

// review answers an AdmissionReview (admission.k8s.io v1 or v1beta1) with allowed, no patch.
func (w *AdmissionWebhooks) review(rw http.ResponseWriter, r *http.Request, service string) {
	var in struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Request    *struct {
			UID string `json:"uid"`
		} `json:"request"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Request == nil {
		http.Error(rw, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.calls[service]++
	w.mu.Unlock()
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]any{
		"apiVersion": in.APIVersion, "kind": in.Kind,
		"response": map[string]any{"uid": in.Request.UID, "allowed": true},
	})
}
