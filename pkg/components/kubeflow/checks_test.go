package kubeflow

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "dex-oidc-client", Namespace: "auth"}, Data: map[string][]byte{"OIDC_CLIENT_SECRET": []byte(publicClientSecret)}}
	rs := oidcSecret(checks.NewSnapshot().WithObjects(SecretsGVR, sec))
	if rs[0].Severity == checks.OK || strings.Contains(rs[0].Message+rs[0].Fix, publicClientSecret) {
		t.Fatalf("public default passed or was printed: %+v", rs)
	}
	sec.Data["OIDC_CLIENT_SECRET"] = []byte("generated")
	if rs := oidcSecret(checks.NewSnapshot().WithObjects(SecretsGVR, sec)); rs[0].Severity != checks.OK {
		t.Fatalf("got %+v", rs)
	}
}
