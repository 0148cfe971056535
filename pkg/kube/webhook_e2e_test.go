package kube_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// guardWebhook is a namespace, the Service of a validating webhook for its ConfigMaps, and the
// webhook's configuration (failurePolicy Fail).
const guardWebhook = `
apiVersion: v1
kind: Namespace
metadata: {name: hooked}
---
apiVersion: v1
kind: Service
metadata: {name: guard-webhook, namespace: hooked}
spec:
  selector: {app: guard}
  ports: [{port: 443, targetPort: 9443}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: guard}
webhooks:
- name: guard.example.flexigrobots.io
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig:
    service: {name: guard-webhook, namespace: hooked, path: /validate}
  rules:
  - apiGroups: [""]
    apiVersions: [v1]
    resources: [configmaps]
    operations: [CREATE, UPDATE]
  namespaceSelector:
    matchLabels: {kubernetes.io/metadata.name: hooked}
`

// guardBackend is the Deployment behind guard-webhook.
const guardBackend = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: guard, namespace: hooked}
spec:
  selector: {matchLabels: {app: guard}}
  template:
    metadata: {labels: {app: guard}}
    spec: {containers: [{name: guard, image: example.com/guard:1}]}
`

// guardedObjects: a ConfigMap the webhook intercepts and a Secret it does not.
const guardedObjects = `
apiVersion: v1
kind: ConfigMap
metadata: {name: intercepted, namespace: hooked}
data: {a: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: not-intercepted, namespace: hooked}
stringData: {a: "1"}
`

// TestApplyWebhookWithoutEndpointsFailsNamingIt: with admission webhooks on, an object that a
// webhook intercepts is retried until the run's time is up, then fails naming the webhook;
// the objects not intercepted are applied and reported.
func TestApplyWebhookWithoutEndpointsFailsNamingIt(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Webhooks: true})
	cl := clientsFor(t, c)
	ctx := context.Background()
	if _, err := (&kube.Applier{Clients: cl}).Apply(ctx, decode(t, guardWebhook)); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 8*time.Second)
	defer cancel()
	rep, err := (&kube.Applier{Clients: cl}).Apply(tctx, decode(t, guardedObjects))
	var ae *kube.ApplyError
	if !errors.As(err, &ae) {
		t.Fatalf("want an ApplyError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"guard/guard.example.flexigrobots.io", "hooked/guard-webhook", "ConfigMap hooked/intercepted"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not name %q:\n%s", want, msg)
		}
	}
	// The deadline passed: one line says so and names what the run waited for.
	first, _, _ := strings.Cut(msg, "\n")
	if !ae.TimedOut || !strings.Contains(first, "timed out after") || !strings.Contains(first, "waiting for webhook guard/guard.example.flexigrobots.io") || !strings.Contains(first, "longer --timeout") {
		t.Errorf("want a first line saying the time ran out waiting for the webhook, got:\n%s", msg)
	}
	if len(ae.Failed) != 1 || len(rep.Results) != 1 || rep.Results[0].Name != "not-intercepted" {
		t.Fatalf("want 1 failed and the Secret applied; failed=%v results=%+v", ae.Failed, rep.Results)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("hooked").Get(ctx, "intercepted", metav1.GetOptions{}); err == nil {
		t.Fatal("intercepted ConfigMap exists although its webhook was never reachable")
	}
}

// TestApplyWaitsForWebhookThatComesUp: a webhook registered before its backend serves (the
// stand-in answers 4 s after the Deployment's pod is Ready) holds back the object it intercepts;
// the engine says once which webhook it waits for and why, then applies the object through the
// webhook when it answers.
func TestApplyWaitsForWebhookThatComesUp(t *testing.T) {
	hooks := standins.NewAdmissionWebhooks(4 * time.Second)
	c := testbed.StartT(t, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{hooks}})
	cl := clientsFor(t, c)
	ctx := context.Background()
	if _, err := (&kube.Applier{Clients: cl}).Apply(ctx, decode(t, guardWebhook+"---\n"+guardBackend)); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	rep, err := (&kube.Applier{Clients: cl, Progress: output.NewProgress(&log)}).Apply(tctx, decode(t, guardedObjects))
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	if len(rep.Results) != 2 || rep.Results[0].Action != output.Created || rep.Results[1].Action != output.Created {
		t.Fatalf("want both created, got %+v", rep.Results)
	}
	want := "waiting for webhook guard.example.flexigrobots.io to answer ("
	if n := strings.Count(log.String(), want); n != 1 {
		t.Fatalf("want the wait announced once (%q), got %d times:\n%s", want, n, log.String())
	}
	if !strings.Contains(log.String(), "ConfigMap hooked/intercepted") || strings.Contains(log.String(), "not-intercepted") {
		t.Errorf("the announcement should name the held ConfigMap only:\n%s", log.String())
	}
	if hooks.Calls("hooked/guard-webhook") == 0 {
		t.Fatal("the webhook never answered: the ConfigMap did not go through it")
	}
}
