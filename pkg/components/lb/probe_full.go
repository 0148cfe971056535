package lb

import (
	"context"
	"fmt"
	"math/big"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// holder returns a LoadBalancer Service (namespace/name and IP) holding an address of the pool
// when every address of the pool is held, "" otherwise: a probe Service could then never get
// one, and the holder already proves MetalLB hands out the pool's addresses (e.g. after Kubeflow
// took the runbook's one public IP for its ingress gateway).
func (in *Installer) holder(ctx context.Context, ranges []Range) (string, string, error) {
	list, err := in.Clients.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", "", fmt.Errorf("lb: probe: list Services: %w", err)
	}
	used := map[netip.Addr]string{}
	for _, s := range list.Items {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		for _, i := range s.Status.LoadBalancer.Ingress {
			a, err := netip.ParseAddr(i.IP)
			if err == nil && slices.ContainsFunc(ranges, func(r Range) bool { return r.Contains(a) }) {
				used[a] = s.Namespace + "/" + s.Name
			}
		}
	}
	if len(used) == 0 || uint64(len(used)) < poolSize(ranges) {
		return "", "", nil
	}
	first := netip.Addr{}
	for a := range used {
		if !first.IsValid() || a.Less(first) {
			first = a
		}
	}
	return used[first], first.String(), nil
}

// poolSize counts the addresses of the ranges (saturating at 1<<32: it is only compared with
// the number of Services holding one).
func poolSize(ranges []Range) uint64 {
	const most = 1 << 32
	var n uint64
	for _, r := range ranges {
		first, last := r.First.As16(), r.Last.As16()
		d := new(big.Int).Sub(new(big.Int).SetBytes(last[:]), new(big.Int).SetBytes(first[:]))
		if !d.IsUint64() || d.Uint64() >= most {
			return most
		}
		n += d.Uint64() + 1
	}
	return min(n, most)
}
