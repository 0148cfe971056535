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
	client := fake.NewClientset(sec, proxy, other)
	found, err := readOIDCSecrets(context.Background(), checks.Env{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range client.Actions() {
		if a.GetVerb() == "list" && a.GetNamespace() != "oauth2-proxy" {
			t.Errorf("the probe listed Secrets in %q; only oauth2-proxy may be listed (hash-suffixed name)", a.GetNamespace())
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
