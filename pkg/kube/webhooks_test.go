package kube

import "testing"

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
