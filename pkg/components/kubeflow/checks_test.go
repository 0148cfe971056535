package kubeflow

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

func one(n int32) *int32 { return &n }

func TestWorkloadsReady(t *testing.T) {
	s := checks.NewSnapshot().
		WithObjects(DeploymentsGVR,
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "centraldashboard", Namespace: "kubeflow"}, Spec: appsv1.DeploymentSpec{Replicas: one(1)}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1}},
			&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "dex", Namespace: "auth"}, Spec: appsv1.DeploymentSpec{Replicas: one(1)}}).
		WithObjects(StatefulSetsGVR)
	rs := workloadsReady(s)
	if len(rs) != 2 || rs[0].Severity != 0 || !strings.Contains(rs[0].Message, "deployment/dex 0/1") || rs[1].Severity != checks.OK {
		t.Fatalf("got %+v", rs)
	}
	empty := checks.NewSnapshot().WithObjects(DeploymentsGVR).WithObjects(StatefulSetsGVR)
	if rs := workloadsReady(empty); len(rs) != 1 || !strings.Contains(rs[0].Message, "not installed") {
		t.Fatalf("got %+v", rs)
	}
}

func TestIngressDexAndSecret(t *testing.T) {
	gw := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "istio-ingressgateway", Namespace: "istio-system"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	if rs := ingressAddress(checks.NewSnapshot().WithObjects(ServicesGVR, gw)); rs[0].Severity == checks.OK {
		t.Fatalf("LoadBalancer without IP passed: %+v", rs)
	}
	gw.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	if rs := ingressAddress(checks.NewSnapshot().WithObjects(ServicesGVR, gw)); rs[0].Severity != checks.OK {
		t.Fatalf("got %+v", rs)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dex", Namespace: "auth"}, Data: map[string]string{"config.yaml": "enablePasswordDB: true\n"}}
	if rs := dexConnector(checks.NewSnapshot().WithObjects(ConfigMapsGVR, cm)); rs[0].Severity == checks.OK {
		t.Fatalf("no connector passed: %+v", rs)
	}
	cm.Data["config.yaml"] = "connectors:\n- type: github\n  id: github\n  config: {clientSecret: $GITHUB_CLIENT_SECRET}\n"
	if rs := dexConnector(checks.NewSnapshot().WithObjects(ConfigMapsGVR, cm)); rs[0].Severity != checks.OK {
		t.Fatalf("got %+v", rs)
	}
	// KUBEFLOW-004 reads the Secrets by name (GET) in its probe; the value never leaves it.
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dex-oidc-client", Namespace: "auth"}, Data: map[string][]byte{"OIDC_CLIENT_SECRET": []byte(publicClientSecret)}}
	proxy := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "oauth2-proxy-7f9c", Namespace: "oauth2-proxy"}, Data: map[string][]byte{"client-secret": []byte("generated")}}
	other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "unrelated", Namespace: "default"}, Data: map[string][]byte{"k": []byte("v")}}
	// The stock build names oauth2-proxy's Secret with a hash suffix: the Deployment says which.
	ref := &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "oauth2-proxy-7f9c"}, Key: "client-secret"}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "oauth2-proxy", Namespace: "oauth2-proxy"}, Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "oauth2-proxy", Env: []corev1.EnvVar{{Name: "OAUTH2_PROXY_CLIENT_SECRET", ValueFrom: ref}}}}}}}}
	client := fake.NewClientset(sec, proxy, other, dep)
	found, err := readOIDCSecrets(context.Background(), checks.Env{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("the probe did %s %s in %q: only GETs by name", a.GetVerb(), a.GetResource().Resource, a.GetNamespace())
		}
	}
	rs := oidcSecret(checks.NewSnapshot().WithProbe(oidcSecretsProbe.Name, found, nil))
	if len(rs) != 2 || rs[0].Severity == checks.OK || rs[1].Severity != checks.OK || strings.Contains(fmt.Sprint(rs), publicClientSecret) {
		t.Fatalf("want the public default failed (not printed) and the generated one ok: %+v", rs)
	}
	if rs := oidcSecret(checks.NewSnapshot().WithProbe(oidcSecretsProbe.Name, []oidcFinding(nil), nil)); rs[0].Severity == checks.OK {
		t.Fatalf("no Secret passed: %+v", rs)
	}
}

// KUBEFLOW-005 reads the stores' Secrets and dex's hash by name (GET, never a LIST): published
// store values fail, the published login warns, generated ones pass; no value is printed.
func TestCredentialsCheck(t *testing.T) {
	secret := func(ns, name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	client := fake.NewClientset(
		secret("kubeflow", "mlpipeline-minio-artifact", map[string]string{"accesskey": "minio", "secretkey": "minio123"}),
		secret("kubeflow", "katib-mysql-secrets", map[string]string{"MYSQL_ROOT_PASSWORD": "0f3a9c1e5b7d2a4c6e8f0a1b3c5d7e9f"}),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "auth", Name: "dex"}, Data: map[string]string{"config.yaml": "enablePasswordDB: true\nstaticPasswords:\n- email: user@example.com\n  hash: " + upstreamDexHash + "\n"}},
	)
	found, err := readCredentials(context.Background(), checks.Env{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() != "get" {
			t.Errorf("the probe did %s %s: only GETs by name", a.GetVerb(), a.GetResource().Resource)
		}
	}
	rs := credentials(checks.NewSnapshot().WithProbe(credentialsProbe.Name, found, nil))
	var sev []string
	for _, r := range rs {
		name := r.Severity.String()
		if r.Severity == 0 { // Fail: the check's own severity (error)
			name = "fail"
		}
		sev = append(sev, name)
		if strings.Contains(r.Message+r.Fix, "minio123") || strings.Contains(r.Message+r.Fix, "0f3a9c") {
			t.Errorf("a result prints a credential: %s", r.Message)
		}
	}
	if got := strings.Join(sev, ","); got != "fail,fail,ok,warn" {
		t.Fatalf("severities %s: want minio's two keys failed, Katib's ok, the published login warned: %+v", got, rs)
	}
	if rs := credentials(checks.NewSnapshot().WithProbe(credentialsProbe.Name, []credentialFinding(nil), nil)); !strings.Contains(rs[0].Message, "found") || rs[0].Severity == checks.OK {
		t.Fatalf("nothing found passed: %+v", rs)
	}
}
