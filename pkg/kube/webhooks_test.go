package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestWebhookNameAndReasonFromAPIError(t *testing.T) {
	cases := []struct{ msg, name, reason string }{
		{`Internal error occurred: failed calling webhook "webhook.cert-manager.io": failed to call webhook: Post "https://cert-manager-webhook.cert-manager.svc:443/validate?timeout=10s": dial tcp 127.96.12.7:443: connect: connection refused`,
			"webhook.cert-manager.io", "connection refused"},
		{`Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate?timeout=10s": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
			"ipaddresspoolvalidationwebhook.metallb.io", "its certificate is not trusted yet"},
		{`Internal error occurred: failed calling webhook "x.example": failed to call webhook: Post "https://x.ns.svc:443/": service "x" not found`,
			"x.example", `service "x" not found`},
		{`something else`, "(unnamed)", "call failed"},
	}
	for _, tc := range cases {
		if got := webhookNameOf(tc.msg); got != tc.name {
			t.Errorf("name of %q = %q, want %q", tc.msg, got, tc.name)
		}
		if got := webhookFailureReason(tc.msg); got != tc.reason {
			t.Errorf("reason of %q = %q, want %q", tc.msg, got, tc.reason)
		}
	}
}

// TestTimeoutMessage: when the time runs out with hundreds of objects not applied, the message
// is one line naming what the run waited for (each webhook and CRD once), then at most three
// real reasons, then a count of the rest; no line per "context deadline exceeded".
func TestTimeoutMessage(t *testing.T) {
	e := &ApplyError{Section: "kubeflow", Total: 611, Applied: 93, TimedOut: true, After: 90 * time.Second}
	hook := func(i int) error {
		return &waitError{For: "webhook kserve/inferenceservice.serving.kserve.io", Err: fmt.Errorf("webhook kserve/inferenceservice.serving.kserve.io not ready: service kserve/kserve-webhook-server-service: no ready endpoints (object %d)", i)}
	}
	for i := range 5 {
		e.Failed = append(e.Failed, ObjectError{Ref: fmt.Sprintf("InferenceService ns/is-%d", i), Err: hook(i)})
	}
	e.Failed = append(e.Failed, ObjectError{Ref: "Profile kubeflow-user", Err: &waitError{For: "CustomResourceDefinition profiles.kubeflow.org",
		Err: fmt.Errorf("waiting for CustomResourceDefinition profiles.kubeflow.org: %w", context.DeadlineExceeded)}})
	for i := range 500 {
		e.Failed = append(e.Failed, ObjectError{Ref: fmt.Sprintf("ConfigMap kubeflow/cm-%d", i), Err: context.DeadlineExceeded})
	}
	lines := strings.Split(e.Error(), "\n")
	want := "kubeflow: timed out after 1m30s, waiting for webhook kserve/inferenceservice.serving.kserve.io, CustomResourceDefinition profiles.kubeflow.org, with 93 of 611 objects applied"
	if !strings.HasPrefix(lines[0], want) {
		t.Errorf("first line:\n got %s\nwant %s ...", lines[0], want)
	}
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "  - InferenceService ns/is-0: webhook") || lines[4] != "  ... and 503 more objects not applied in time" {
		t.Errorf("want the line, 3 reasons and the count of the rest, got:\n%s", strings.Join(lines, "\n"))
	}
}
