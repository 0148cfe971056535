package lb

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseAddressesGood(t *testing.T) {
	cases := []struct {
		in   []string
		want []string
	}{
		{[]string{"203.0.113.10/32"}, []string{"203.0.113.10/32"}},
		{[]string{"198.51.100.10-198.51.100.20", "203.0.113.16/28"}, []string{"198.51.100.10-198.51.100.20", "203.0.113.16/28"}},
		{[]string{" 198.51.100.10 - 198.51.100.10 "}, []string{"198.51.100.10-198.51.100.10"}},
		{[]string{"2001:db8::/120", "2001:db8:1::1-2001:db8:1::ff"}, []string{"2001:db8::/120", "2001:db8:1::1-2001:db8:1::ff"}},
	}
	for _, tc := range cases {
		rs, ps := ParseAddresses(tc.in)
		if len(ps) > 0 {
			t.Fatalf("%v: %v", tc.in, ps)
		}
		if got := strings.Join(Entries(rs), ","); got != strings.Join(tc.want, ",") {
			t.Errorf("%v: entries %s, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseAddressesBad(t *testing.T) {
	cases := []struct {
		in    []string
		field string
		want  string
	}{
		{nil, "", "is empty"},
		{[]string{""}, "[0]", "empty entry"},
		{[]string{"203.0.113.10/32", ""}, "[1]", "empty entry"},
		{[]string{"not-an-ip"}, "[0]", "neither a CIDR nor a first-last range"},
		{[]string{"gateway-203.0.113.1"}, "[0]", `first address: "gateway" is not an IP address`},
		{[]string{"203.0.113.10"}, "[0]", "neither a CIDR nor a range"},
		{[]string{"203.0.113.10/33"}, "[0]", "is not a CIDR"},
		{[]string{"203.0.113.256/32"}, "[0]", "is not a CIDR"},
		{[]string{"203.0.113.10/24"}, "[0]", "did you mean 203.0.113.0/24"},
		{[]string{"198.51.100.20-198.51.100.10"}, "[0]", "first address 198.51.100.20 is after last address 198.51.100.10: swap them"},
		{[]string{"198.51.100.10-2001:db8::1"}, "[0]", "mixes IPv4 and IPv6"},
		{[]string{"198.51.100.10-"}, "[0]", "last address: missing"},
		{[]string{"-198.51.100.10"}, "[0]", "first address: missing"},
		{[]string{"198.51.100.1-198.51.100.2-198.51.100.3"}, "[0]", "more than one '-'"},
		{[]string{"fe80::1%eth0-fe80::2"}, "[0]", "zone"},
		{[]string{"203.0.113.0/24", "203.0.113.10-203.0.113.20"}, "[1]", "overlaps 203.0.113.0/24 ({[0]})"},
		{[]string{"2001:db8::/129"}, "[0]", "is not a CIDR"},
	}
	for _, tc := range cases {
		_, ps := ParseAddresses(tc.in)
		if len(ps) != 1 {
			t.Errorf("%q: want one problem, got %v", tc.in, ps)
			continue
		}
		if ps[0].Field != tc.field || !strings.Contains(ps[0].Message, tc.want) {
			t.Errorf("%q: problem %+v, want %q at %q", tc.in, ps[0], tc.want, tc.field)
		}
	}
}

func TestRangeContainsAndSameAddresses(t *testing.T) {
	r, _ := ParseRange("198.51.100.10-198.51.100.20")
	for ip, want := range map[string]bool{"198.51.100.10": true, "198.51.100.20": true, "198.51.100.21": false, "198.51.100.9": false, "::ffff:198.51.100.15": true, "2001:db8::1": false} {
		if got := r.Contains(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s in %s: %v, want %v", ip, r.Entry, got, want)
		}
	}
	a, _ := ParseAddresses([]string{"203.0.113.0/31", "203.0.113.2-203.0.113.3"})
	b, _ := ParseAddresses([]string{"203.0.113.0/30"})
	c, _ := ParseAddresses([]string{"203.0.113.0/29"})
	if !SameAddresses(a, b) {
		t.Error("203.0.113.0/31 + .2-.3 should equal 203.0.113.0/30")
	}
	if SameAddresses(b, c) {
		t.Error("/30 should differ from /29")
	}
}

func TestOverlapWarnings(t *testing.T) {
	pool, _ := ParseAddresses([]string{"198.51.100.0/24", "203.0.113.10/32"})
	nodes := []NodeAddress{{Node: "master", Type: corev1.NodeInternalIP, IP: netip.MustParseAddr("198.51.100.7")}, {Node: "gpu-worker", Type: corev1.NodeInternalIP, IP: netip.MustParseAddr("192.0.2.8")}}
	svc := ServiceRanges{CIDRs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/28")}, Complete: true}
	w := OverlapWarnings(pool, nodes, svc)
	if len(w) != 2 || !strings.Contains(w[0], "node master") || !strings.Contains(w[1], "service CIDR 203.0.113.0/28") {
		t.Fatalf("warnings: %q", w)
	}
	// Only the kubernetes ClusterIP known: it is checked, nothing else is guessed.
	svc = ServiceRanges{KubernetesIP: netip.MustParseAddr("203.0.113.10")}
	w = OverlapWarnings(pool, nil, svc)
	if len(w) != 1 || !strings.Contains(w[0], "ClusterIP of Service default/kubernetes") {
		t.Fatalf("warnings: %q", w)
	}
}

func TestStrictARPConfig(t *testing.T) {
	doc := "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n# set by the installer\nmode: ipvs\nipvs:\n  strictARP: false # MetalLB needs true\n  scheduler: rr\n"
	_, m, err := parseProxyConfig(doc)
	if err != nil || !m.NeedsStrictARP() {
		t.Fatalf("mode %+v err %v: want IPVS without strictARP", m, err)
	}
	fixed, err := setStrictARP(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, m, _ = parseProxyConfig(fixed)
	if m.NeedsStrictARP() || !m.StrictARP || m.Mode != "ipvs" || !strings.Contains(fixed, "scheduler: rr") {
		t.Fatalf("after fix: %+v\n%s", m, fixed)
	}
	if want := strings.Replace(doc, "strictARP: false", "strictARP: true", 1); fixed != want {
		t.Fatalf("the fix changed more than strictARP:\n%s\nwant:\n%s", fixed, want)
	}
	// No ipvs section at all: it is added, the rest kept.
	added, err := setStrictARP("mode: ipvs # keep\n")
	if _, m, _ := parseProxyConfig(added); err != nil || !m.StrictARP || !strings.Contains(added, "mode: ipvs # keep") {
		t.Fatalf("fix without an ipvs section: %v\n%s", err, added)
	}
	if _, m, _ := parseProxyConfig("mode: iptables\n"); m.NeedsStrictARP() {
		t.Fatal("iptables mode does not need strictARP")
	}
}

func TestPoolSize(t *testing.T) {
	for in, want := range map[string]uint64{"127.240.0.10/32": 1, "127.240.0.10-127.240.0.20": 11, "127.240.0.0/28,127.240.1.0-127.240.1.1": 18, "::/64": 1 << 32} {
		r, ps := ParseAddresses(strings.Split(in, ","))
		if len(ps) > 0 {
			t.Fatal(ps)
		}
		if got := poolSize(r); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
}
