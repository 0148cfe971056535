package core

import (
	"net/netip"
	"testing"
)

func TestPrefixProblemLeavesOutTheGoCall(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/33":  "prefix length out of range",
		"10.0.0.300/8": "IPv4 field has value >255",
		"10.0.0.0/x":   `bad bits after slash: "x"`,
	} {
		_, err := netip.ParsePrefix(in)
		if got := PrefixProblem(err); got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}
