package lb

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Range is one entry of an IPAddressPool's spec.addresses: a CIDR ("203.0.113.10/32") or an
// inclusive range ("198.51.100.10-198.51.100.20"), both ends of the same IP family.
type Range struct {
	// Entry is the text as MetalLB stores it.
	Entry string
	// First and Last are the inclusive ends.
	First, Last netip.Addr
}

// Contains tells whether a is inside r.
func (r Range) Contains(a netip.Addr) bool {
	a = a.Unmap()
	return a.BitLen() == r.First.BitLen() && r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

// Overlaps tells whether r and o share an address.
func (r Range) Overlaps(o Range) bool {
	return r.First.BitLen() == o.First.BitLen() && r.First.Compare(o.Last) <= 0 && o.First.Compare(r.Last) <= 0
}

// PrefixRange is the Range of a CIDR (e.g. the service CIDR).
func PrefixRange(p netip.Prefix) Range {
	p = p.Masked()
	return Range{Entry: p.String(), First: p.Addr(), Last: lastOf(p)}
}

// lastOf is the highest address of p (p masked).
func lastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - uint(i%8))
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// ParseRange parses one spec.addresses entry. Errors say what is wrong with it and what a good
// entry looks like.
func ParseRange(entry string) (Range, error) {
	s := strings.TrimSpace(entry)
	if s == "" {
		return Range{}, fmt.Errorf("empty entry")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, fmt.Errorf("%q is not a CIDR (%s): want e.g. 203.0.113.10/32 or 2001:db8::/120", s, core.PrefixProblem(err))
		}
		if p.Addr().Zone() != "" {
			return Range{}, fmt.Errorf("%q: an IPv6 zone is not allowed in a pool", s)
		}
		if p.Masked() != p {
			return Range{}, fmt.Errorf("%q has host bits set: did you mean %s (the whole network) or %s/%d (one address)?", s, p.Masked(), p.Addr(), p.Addr().BitLen())
		}
		return PrefixRange(p), nil
	}
	first, last, ok := strings.Cut(s, "-")
	if !ok {
		return Range{}, fmt.Errorf("%q is neither a CIDR nor a range: want e.g. 203.0.113.10/32 or 198.51.100.10-198.51.100.20", s)
	}
	if strings.Contains(last, "-") {
		return Range{}, fmt.Errorf("%q is neither a CIDR nor a first-last range (more than one '-'): want e.g. 203.0.113.10/32 or 198.51.100.10-198.51.100.20", s)
	}
	a, err := parseAddr(first)
	if err != nil {
		return Range{}, fmt.Errorf("range %q: first address: %v", s, err)
	}
	b, err := parseAddr(last)
	if err != nil {
		return Range{}, fmt.Errorf("range %q: last address: %v", s, err)
	}
	if a.BitLen() != b.BitLen() {
		return Range{}, fmt.Errorf("range %q mixes IPv4 and IPv6: give one entry per family", s)
	}
	if a.Compare(b) > 0 {
		return Range{}, fmt.Errorf("range %q: first address %s is after last address %s: swap them", s, a, b)
	}
	return Range{Entry: a.String() + "-" + b.String(), First: a, Last: b}, nil
}

func parseAddr(s string) (netip.Addr, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Addr{}, fmt.Errorf("missing")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%q: an IPv6 zone is not allowed in a pool", s)
	}
	return a.Unmap(), nil
}

// ParseAddresses parses a pool's entries: at least one, each a CIDR or first-last range, no two
// overlapping (MetalLB's webhook rejects that too). It returns the entries that parse, and a
// problem for each that does not (at "[i]", or "" when there is none): prefix them with
// Problems.At("addresses").
func ParseAddresses(entries []string) ([]Range, core.Problems) {
	if len(entries) == 0 {
		return nil, core.Problems{core.Problemf("", "is empty: give the IPs MetalLB may hand out, CIDRs or FIRST-LAST ranges, e.g. 203.0.113.10/32 or 198.51.100.10-198.51.100.20")}
	}
	var ps core.Problems
	out := make([]Range, 0, len(entries))
	at := make([]int, 0, len(entries)) // the entry index of each of out
	for i, e := range entries {
		field := fmt.Sprintf("[%d]", i)
		r, err := ParseRange(e)
		if err != nil {
			ps = append(ps, core.Problemf(field, "%v", err))
			continue
		}
		if j := slices.IndexFunc(out, r.Overlaps); j >= 0 {
			ps = append(ps, core.Problemf(field, "%s overlaps %s ({[%d]}): list each address once", r.Entry, out[j].Entry, at[j]))
			continue
		}
		out, at = append(out, r), append(at, i)
	}
	return out, ps
}

// Entries returns the spec.addresses strings of rs, in order.
func Entries(rs []Range) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Entry
	}
	return out
}

// SameAddresses tells whether two spec.addresses lists cover exactly the same addresses (order
// and spelling aside: 203.0.113.10/32 equals 203.0.113.10-203.0.113.10).
func SameAddresses(a, b []Range) bool {
	return equalSpans(spans(a), spans(b))
}

// spans merges rs into sorted, disjoint, non-adjacent spans.
func spans(rs []Range) []Range {
	s := append([]Range(nil), rs...)
	sort.Slice(s, func(i, j int) bool {
		if s[i].First.BitLen() != s[j].First.BitLen() {
			return s[i].First.BitLen() < s[j].First.BitLen()
		}
		return s[i].First.Less(s[j].First)
	})
	var out []Range
	for _, r := range s {
		if n := len(out); n > 0 && out[n-1].Last.BitLen() == r.First.BitLen() &&
			(out[n-1].Last.Next() == r.First || out[n-1].Overlaps(r)) {
			if out[n-1].Last.Less(r.Last) {
				out[n-1].Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

func equalSpans(a, b []Range) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].First != b[i].First || a[i].Last != b[i].Last {
			return false
		}
	}
	return true
}
