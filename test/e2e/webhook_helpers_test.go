package e2e

import (
	"context"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The validating webhook downConfigMapWebhook registers, and the Service it calls.
const (
	downWebhook        = "configmaps.down.e2e.flexigrobots.io"
	downWebhookService = "down-webhook"
)

// downConfigMapWebhook registers a validating webhook with failurePolicy Fail on every ConfigMap
// create and update in namespace, calling a Service that selects no pod: its address refuses
// connections (the webhook stand-in serves only Services with a Ready pod), like a policy
// webhook whose Deployment is down. The returned func removes both.
func downConfigMapWebhook(t *testing.T, c *testbed.Cluster, namespace string) func() {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: downWebhookService, Namespace: namespace},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "no-such-pod"},
			Ports: []corev1.ServicePort{{Port: 443}}},
	}
	if _, err := c.Client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fail, none, port, path := admissionv1.Fail, admissionv1.SideEffectClassNone, int32(443), "/validate"
	cfg := &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "down-e2e"},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name: downWebhook,
			ClientConfig: admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{
				Namespace: namespace, Name: downWebhookService, Port: &port, Path: &path}},
			Rules: []admissionv1.RuleWithOperations{{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	hooks := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := hooks.Create(ctx, cfg, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return func() {
		_ = hooks.Delete(ctx, cfg.Name, metav1.DeleteOptions{})
		_ = c.Client.CoreV1().Services(namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
	}
}
