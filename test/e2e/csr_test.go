package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestCSRSigningNeedsSigningFlags: the default test bed signs CSRs; one started like RKE's default
// (no cluster-signing flags on kube-controller-manager) never does.
func TestCSRSigningNeedsSigningFlags(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noSigning bool
		want      bool
	}{{"with signing flags", false, true}, {"RKE default without signing flags", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			c := testbed.StartT(t, testbed.Options{NoSigning: tc.noSigning})
			signed, err := kube.ProbeCSRSigning(context.Background(), c.Client, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if signed != tc.want {
				t.Fatalf("CSR signed = %v, want %v", signed, tc.want)
			}
		})
	}
}
