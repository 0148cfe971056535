package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func init() { onKubeflowBed("tls", testTLS) }

// testTLS runs the tls section on an installed Kubeflow: bad input changes nothing; a manual
// certificate is served and a re-run is unchanged; ACME issues through the cert-manager stand-in
// with authentication on for every other path and renews unattended; kubeflow and tls in turns
// keep HTTPS; a timeout and Ctrl-C leave a re-runnable state; --remove restores HTTP exactly.
func testTLS(t *testing.T, c *testbed.Cluster, kubeflowVersion string) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	cm := standins.NewCertManager(30 * time.Second)
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = cm.Run(sctx, c) }()
	before := authObjects(t, dyn)
	if len(before) < 3 {
		t.Fatalf("Kubeflow's ingress objects are missing: %v", before)
	}

	t.Run("stand-in blocks the challenge under Kubeflow's own auth", func(t *testing.T) {
		probeBlocked(t, c, dyn)
	})

	pki := newTestPKI(t, tlsDomain)
	t.Run("bad input exits 2 and changes nothing", func(t *testing.T) {
		for _, bad := range [][]string{
			{"--cert", pki.chain, "--key", pki.otherKey},                // key of another certificate
			{"--cert", pki.expired, "--key", pki.key},                   // expired
			{"--cert", pki.notYet, "--key", pki.key},                    // not yet valid
			{"--cert", pki.wrongDomain, "--key", pki.key},               // other domain
			{"--cert", pki.notPEM, "--key", pki.key},                    // not PEM
			{"--cert", pki.chain, "--key", pki.encrypted},               // encrypted key
			{"--cert", pki.dir + "/missing.pem", "--key", pki.key},      // missing file
			{"--cert", pki.empty, "--key", pki.key},                     // empty file
			{"--cert", pki.reversed, "--key", pki.key},                  // chain in the wrong order
			{"--cert", pki.chain, "--key", pki.key, "--wildcard"},       // no *.domain in it
			{"--acme", "--email", "ops@example.org", "--wildcard"},      // HTTP-01 cannot issue wildcards
			{"--acme", "--email", "ops@example.org", "--http-redirect"}, // the redirect would block the challenge
			{"--acme"},            // no e-mail
			{"--cert", pki.chain}, // no key
			{"--acme", "--email", "ops@example.org", "--acme-server", "ftp://x"}, // bad directory
		} {
			r := runPlugin(t, c, append([]string{"tls", "--domain", tlsDomain}, bad...)...)
			if r.code != 2 || !strings.Contains(r.stderr, "error:") {
				t.Errorf("%v: want exit 2 with an error, got %d", bad, r.code)
			}
			assertNoKey(t, pki, r)
		}
		if r := runPlugin(t, c, "tls", "--domain", "Not A Domain", "--cert", pki.chain, "--key", pki.key); r.code != 2 {
			t.Errorf("invalid domain: exit %d", r.code)
		}
		if after := authObjects(t, dyn); !maps.Equal(before, after) {
			t.Fatalf("bad input changed the ingress objects")
		}
		if _, err := c.Client.CoreV1().ConfigMaps("istio-system").Get(ctx, "flexigrobots-tls", metav1.GetOptions{}); err == nil {
			t.Fatal("bad input recorded a TLS state")
		}
	})

	t.Run("manual certificate", func(t *testing.T) {
		args := []string{"tls", "--domain", tlsDomain, "--cert", pki.chain, "--key", pki.key, "-o", "json"}
		r := runPlugin(t, c, args...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		assertNoKey(t, pki, r)
		s, err := c.Client.CoreV1().Secrets("istio-system").Get(ctx, "kubeflow-domain-man-cert", metav1.GetOptions{})
		if err != nil || string(s.Data["tls.key"]) != pki.keyPEM || s.Type != "kubernetes.io/tls" {
			t.Fatalf("Secret istio-system/kubeflow-domain-man-cert: %v", err)
		}
		assertHTTPS(t, dyn, "kubeflow-domain-man-cert")
		objs := tlsObjects(t, c, "kubeflow-domain-man-cert")
		state := liveState(t, c, objs)
		r = runPlugin(t, c, args...)
		assertUnchanged(t, r)
		if again := liveState(t, c, objs); !maps.Equal(state, again) {
			t.Fatalf("second run moved resourceVersions: %v -> %v", state, again)
		}
		if r := runPlugin(t, c, "tls", "--domain", tlsDomain, "--cert", pki.chain, "--key", pki.key, "--dry-run=server"); r.code != 0 || strings.Contains(r.stdout, "configured") {
			t.Fatalf("server dry run of the same input: exit %d, want nothing configured", r.code)
		}
		// -v as kubectl users debug with: every request is logged, no body, so the key that the
		// run sends and reads back never shows, in PEM or in the API's base64.
		v := runPlugin(t, c, append(append([]string{}, args...), "-v=9")...)
		if v.code != 0 || !strings.Contains(v.stderr, "-v=9 lowered to 7") || !strings.Contains(v.stderr, "/api/v1/namespaces/istio-system/secrets/kubeflow-domain-man-cert") {
			t.Fatalf("-v=9: exit %d; want the cap noted and the Secret's request logged:\n%s", v.code, v.stderr)
		}
		assertNoKey(t, pki, v)
		if b64 := base64.StdEncoding.EncodeToString([]byte(pki.keyPEM)); strings.Contains(v.stdout+v.stderr, b64[len(b64)/2:len(b64)/2+40]) {
			t.Fatal("-v=9 logged the private key (base64)")
		}
	})

	acme := []string{"tls", "--domain", tlsDomain, "--acme", "--email", "ops@example.org", "--timeout", "3m", "-o", "json"}
	t.Run("acme with authentication kept on", func(t *testing.T) {
		r := runPlugin(t, c, acme...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if !strings.Contains(r.stdout, `"kubeflow-domain-man-cert"`) || !strings.Contains(r.stdout, `"deleted"`) {
			t.Errorf("switching to ACME should delete the manual certificate's Secret")
		}
		assertHTTPS(t, dyn, "kubeflow-domain-cert-prod")
		assertIssuedBy(t, c, cm, "kubeflow-domain-cert-prod")
		assertAuthOn(t, dyn, before)
		vr := runPlugin(t, c, "verify", "--section", "tls", "-o", "json")
		var vrep verify.Report
		if err := json.Unmarshal([]byte(vr.stdout), &vrep); err != nil || vr.code != 0 || len(vrep.Results) != 5 {
			t.Fatalf("verify --section tls: exit %d, %d results (%v)", vr.code, len(vrep.Results), err)
		}
		for _, x := range vrep.Results {
			// The stand-in CA issues 30-second certificates (to reach a renewal): TLS-002 warns
			// that it expires within 30 days, as it must.
			want := checks.OK
			if x.ID == "TLS-002" {
				want = checks.Warn
			}
			if x.Severity != want {
				t.Errorf("%s: %s %s", x.ID, x.Severity, x.Message)
			}
		}
	})

	t.Run("renewal with nobody running the plugin", func(t *testing.T) {
		first := servedSerial(t, c, "kubeflow-domain-cert-prod")
		err := wait.PollUntilContextTimeout(ctx, time.Second, 90*time.Second, true, func(ctx context.Context) (bool, error) {
			return servedSerial(t, c, "kubeflow-domain-cert-prod") != first, nil
		})
		if err != nil {
			t.Fatalf("the stand-in did not renew the certificate at its renewal time: %v", err)
		}
		assertIssuedBy(t, c, cm, "kubeflow-domain-cert-prod")
	})

	t.Run("kubeflow and tls in turns keep HTTPS", func(t *testing.T) {
		url := kubeflowArchiveURL(t, strings.TrimPrefix(kubeflowVersion, "v"))
		kf := append(append([]string{"kubeflow"}, kubeflowEditArgs(t, strings.TrimPrefix(kubeflowVersion, "v"), url)...), "-o", "json", "--timeout", "15m")
		if r := runPlugin(t, c, kf...); r.code != 0 {
			t.Fatalf("kubeflow after tls: exit %d", r.code)
		}
		assertHTTPS(t, dyn, "kubeflow-domain-cert-prod")
		assertAuthOn(t, dyn, before)
		assertUnchanged(t, runPlugin(t, c, acme...))
		objs := tlsObjects(t, c, "") // the Secret and Certificate are cert-manager's to renew
		state := liveState(t, c, objs)
		assertUnchanged(t, runPlugin(t, c, kf...))
		assertUnchanged(t, runPlugin(t, c, acme...))
		if again := liveState(t, c, objs); !maps.Equal(state, again) {
			t.Fatalf("kubeflow/tls re-runs moved resourceVersions: %v -> %v", state, again)
		}
	})

	staging := []string{"tls", "--domain", tlsDomain, "--acme", "--email", "ops@example.org", "--acme-server", "staging"}
	t.Run("timeout and Ctrl-C leave a re-runnable state", func(t *testing.T) {
		// Someone else's DENY policy blocks the challenge: the timeout names the Certificate and
		// gives cert-manager's reasons.
		block := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "security.istio.io/v1beta1", "kind": "AuthorizationPolicy",
			"metadata": map[string]any{"name": "test-block-well-known", "namespace": "istio-system"},
			"spec": map[string]any{"action": "DENY", "selector": map[string]any{"matchLabels": map[string]any{"app": "istio-ingressgateway"}},
				"rules": []any{map[string]any{"to": []any{map[string]any{"operation": map[string]any{"paths": []any{"/.well-known/*"}}}}}}}}}
		if _, err := dyn.Resource(authzGVR).Namespace("istio-system").Create(ctx, block, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r := runPlugin(t, c, append(staging, "--timeout", "8s")...)
		if r.code == 0 || !strings.Contains(r.stderr, "timed out") || !strings.Contains(r.stderr, "Certificate istio-system/kubeflow-domain-cert-staging") {
			t.Fatalf("timeout: want a failure naming the Certificate, got exit %d", r.code)
		}
		for _, want := range []string{"DoesNotExist", "Challenge", "test-block-well-known denies it"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("timeout message lacks cert-manager's reason %q", want)
			}
		}
		// cert-manager down first, then the block lifted: nothing can issue the certificate
		// before the interrupted run is waiting for it.
		cm.Pause()
		if err := dyn.Resource(authzGVR).Namespace("istio-system").Delete(ctx, "test-block-well-known", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		interruptDuringWait(t, c, staging)
		st := runPlugin(t, c, "tls", "status", "-o", "json")
		if st.code != 0 || !strings.Contains(st.stdout, `"ready": false`) || !strings.Contains(st.stdout, "kubeflow-domain-cert-staging") {
			t.Fatalf("tls status after the interruption should report the pending staging certificate")
		}
		cm.Resume()
		if r := runPlugin(t, c, append(staging, "--timeout", "2m")...); r.code != 0 {
			t.Fatalf("re-run after the interruption: exit %d", r.code)
		}
		assertHTTPS(t, dyn, "kubeflow-domain-cert-staging")
		st = runPlugin(t, c, "tls", "status")
		if !strings.Contains(st.stdout, "open") || !strings.Contains(st.stdout, "letsencrypt-staging") {
			t.Fatalf("tls status: %s", st.stdout)
		}
	})

	t.Run("remove restores HTTP only", func(t *testing.T) {
		r := runPlugin(t, c, "tls", "--remove", "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if after := authObjects(t, dyn); !maps.Equal(before, after) {
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s differs after --remove:\nbefore %s\nafter  %s", k, v, after[k])
				}
			}
		}
		for _, gone := range []struct{ what, ns, name string }{{"certificate", "istio-system", "kubeflow-domain-cert-staging"}, {"clusterissuer", "", "letsencrypt-staging"}, {"clusterissuer", "", "letsencrypt-prod"}} {
			gvr := certificatesGVR
			if gone.what == "clusterissuer" {
				gvr = issuersGVR
			}
			if _, err := dyn.Resource(gvr).Namespace(gone.ns).Get(ctx, gone.name, metav1.GetOptions{}); err == nil {
				t.Errorf("%s %s still exists", gone.what, gone.name)
			}
		}
		if _, err := c.Client.CoreV1().ConfigMaps("istio-system").Get(ctx, "flexigrobots-tls", metav1.GetOptions{}); err == nil {
			t.Error("the TLS record is still there")
		}
		for _, s := range []string{"kubeflow-domain-cert-staging", "kubeflow-domain-cert-prod", "kubeflow-domain-man-cert"} {
			if _, err := c.Client.CoreV1().Secrets("istio-system").Get(ctx, s, metav1.GetOptions{}); err == nil {
				t.Errorf("Secret istio-system/%s still exists", s)
			}
		}
		r = runPlugin(t, c, "tls", "uninstall", "-o", "json")
		assertUnchanged(t, r)
		if notes := kfReport(t, r).Notes; !slices.Contains(notes, "TLS is not configured: nothing to uninstall") {
			t.Fatalf("tls uninstall after --remove: notes %v", notes)
		}
		if st := runPlugin(t, c, "tls", "status"); !strings.Contains(st.stdout, "not configured") {
			t.Fatalf("tls status after --remove: %s", st.stdout)
		}
	})
}

// TestTLSWithoutKubeflow: on a cluster without Kubeflow, tls refuses with exit 2 and changes
// nothing, status says TLS is not configured, and verify reports the section as info only.
func TestTLSWithoutKubeflow(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{standins.NewAdmissionWebhooks(webhookDelay)}})
	pki := newTestPKI(t, tlsDomain)
	before := namespaceNames(t, c)
	for _, args := range [][]string{
		{"tls", "--domain", tlsDomain, "--cert", pki.chain, "--key", pki.key},
		{"tls", "--domain", tlsDomain, "--acme", "--email", "ops@example.org"},
	} {
		r := runPlugin(t, c, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "Kubeflow is not installed") || !strings.Contains(r.stderr, "kubectl flexigrobots kubeflow") {
			t.Fatalf("%v: want exit 2 saying to install Kubeflow first, got %d", args, r.code)
		}
	}
	if _, err := c.Client.CoreV1().ConfigMaps("istio-system").Get(context.Background(), "flexigrobots-tls", metav1.GetOptions{}); err == nil {
		t.Fatal("a TLS state was recorded")
	}
	if after := namespaceNames(t, c); !slices.Equal(before, after) {
		t.Fatalf("namespaces changed: %v -> %v", before, after)
	}
	if st := runPlugin(t, c, "tls", "status"); st.code != 0 || !strings.Contains(st.stdout, "not configured") {
		t.Fatalf("tls status: exit %d", st.code)
	}
	if r := runPlugin(t, c, "tls", "uninstall", "-o", "json"); r.code != 0 || !slices.Contains(kfReport(t, r).Notes, "TLS is not configured: nothing to uninstall") {
		t.Fatalf("tls uninstall without Kubeflow: want exit 0 and nothing to uninstall, got %d\n%s", r.code, r.stderr)
	}
	vr := runPlugin(t, c, "verify", "--section", "tls", "-o", "json")
	var vrep verify.Report
	if err := json.Unmarshal([]byte(vr.stdout), &vrep); err != nil || vr.code != 0 || len(vrep.Results) != 5 {
		t.Fatalf("verify --section tls: exit %d (%v)", vr.code, err)
	}
	for _, x := range vrep.Results {
		if x.Severity != checks.Info {
			t.Errorf("%s: %s %s (want info: not configured)", x.ID, x.Severity, x.Message)
		}
	}
}
