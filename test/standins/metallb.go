// MetalLBController imitates, on the test bed, the controller of MetalLB (metallb/metallb,
// cmd/controller, the Deployment metallb-controller of the chart the lb command installs): while
// a MetalLB controller Deployment is ready, every Service of type LoadBalancer without a
// spec.loadBalancerClass gets status.loadBalancer.ingress set to one IP taken from the
// IPAddressPools (metallb.io/v1beta1, read with the dynamic client), as the real controller
// allocates them:
//   - a Service asking for a pool (annotation metallb.io/address-pool, or the older
//     metallb.universe.tf/address-pool) only gets an address from that pool;
//   - otherwise pools with spec.autoAssign: false are skipped, and the pools are tried in name order;
//   - a Service asking for specific IPs (annotation metallb.io/loadBalancerIPs) gets the first of
//     them that lies in an eligible pool and is free;
//   - an address already held by another Service is never handed out twice, and a Service keeps
//     its address while that address is still in an eligible pool (when the pool changes, it is
//     reassigned, as MetalLB does on a pool update).
//
// The speaker's part (answering ARP for the address on a node) has no effect on the test bed:
// nothing dials these addresses.

package standins

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

var metallbPoolsGVR = schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}

// MetalLBController is the stand-in; see the file comment.
type MetalLBController struct {
	// Interval between passes (default 250ms).
	Interval time.Duration
}

// NewMetalLBController returns the stand-in.
func NewMetalLBController() *MetalLBController {
	return &MetalLBController{Interval: 250 * time.Millisecond}
}

// Name says what it imitates.
func (m *MetalLBController) Name() string {
	return "MetalLB controller (LoadBalancer Service IPs from IPAddressPools)"
}

// Run reconciles until ctx ends; errors of one pass are retried on the next.
func (m *MetalLBController) Run(ctx context.Context, c *testbed.Cluster) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		_ = m.assign(ctx, c.Client, dyn)
	}
}

// lbPool is one IPAddressPool as the allocator sees it.
type lbPool struct {
	name       string
	autoAssign bool
	ranges     [][2]netip.Addr
}

func (p lbPool) contains(a netip.Addr) bool {
	for _, r := range p.ranges {
		if a.BitLen() == r[0].BitLen() && r[0].Compare(a) <= 0 && a.Compare(r[1]) <= 0 {
			return true
		}
	}
	return false
}

// parseEntry reads one spec.addresses entry the way MetalLB does (CIDR or first-last).
func parseEntry(s string) ([2]netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		last := p.Addr().AsSlice()
		for i := p.Bits(); i < len(last)*8; i++ {
			last[i/8] |= 1 << (7 - uint(i%8))
		}
		l, _ := netip.AddrFromSlice(last)
		return [2]netip.Addr{p.Addr(), l}, true
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return [2]netip.Addr{}, false
	}
	first, err1 := netip.ParseAddr(strings.TrimSpace(a))
	last, err2 := netip.ParseAddr(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || first.BitLen() != last.BitLen() || first.Compare(last) > 0 {
		return [2]netip.Addr{}, false
	}
	return [2]netip.Addr{first, last}, true
}

func controllerReady(ctx context.Context, cs kubernetes.Interface) bool {
	deps, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=metallb,app.kubernetes.io/component=controller"})
	if err != nil {
		return false
	}
	for _, d := range deps.Items {
		if d.Status.ReadyReplicas > 0 {
			return true
		}
	}
	return false
}

func readPools(ctx context.Context, dyn dynamic.Interface) ([]lbPool, error) {
	list, err := dyn.Resource(metallbPoolsGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var pools []lbPool
	for _, o := range list.Items {
		p := lbPool{name: o.GetName(), autoAssign: true}
		if v, found, _ := unstructured.NestedBool(o.Object, "spec", "autoAssign"); found {
			p.autoAssign = v
		}
		entries, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "addresses")
		for _, e := range entries {
			if r, ok := parseEntry(e); ok {
				p.ranges = append(p.ranges, r)
			}
		}
		pools = append(pools, p)
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i].name < pools[j].name })
	return pools, nil
}

func (m *MetalLBController) assign(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface) error {
	if !controllerReady(ctx, cs) {
		return nil
	}
	pools, err := readPools(ctx, dyn)
	if err != nil {
		return err
	}
	svcs, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	used := map[netip.Addr]string{}
	for _, s := range svcs.Items {
		for _, in := range s.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(in.IP); err == nil {
				used[a] = s.Namespace + "/" + s.Name
			}
		}
	}
	for i := range svcs.Items {
		s := &svcs.Items[i]
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer || s.Spec.LoadBalancerClass != nil {
			continue
		}
		eligible := eligiblePools(s, pools)
		if current := currentIP(s); current.IsValid() && inAny(eligible, current) {
			continue
		}
		ip, ok := pick(s, eligible, used)
		if !ok {
			continue // the real controller records an AllocationFailed event; the Service stays pending
		}
		if old := currentIP(s); old.IsValid() {
			delete(used, old)
		}
		used[ip] = s.Namespace + "/" + s.Name
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip.String()}}
		_, _ = cs.CoreV1().Services(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
	}
	return nil
}

func eligiblePools(s *corev1.Service, pools []lbPool) []lbPool {
	want := s.Annotations["metallb.io/address-pool"]
	if want == "" {
		want = s.Annotations["metallb.universe.tf/address-pool"]
	}
	var out []lbPool
	for _, p := range pools {
		if (want != "" && p.name == want) || (want == "" && p.autoAssign) {
			out = append(out, p)
		}
	}
	return out
}

func currentIP(s *corev1.Service) netip.Addr {
	for _, in := range s.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			return a
		}
	}
	return netip.Addr{}
}

func inAny(pools []lbPool, a netip.Addr) bool {
	for _, p := range pools {
		if p.contains(a) {
			return true
		}
	}
	return false
}

// pick returns the requested IP (metallb.io/loadBalancerIPs) or the first free one of the pools.
func pick(s *corev1.Service, pools []lbPool, used map[netip.Addr]string) (netip.Addr, bool) {
	self := s.Namespace + "/" + s.Name
	free := func(a netip.Addr) bool { owner, taken := used[a]; return !taken || owner == self }
	if req := s.Annotations["metallb.io/loadBalancerIPs"]; req != "" {
		for _, x := range strings.Split(req, ",") {
			if a, err := netip.ParseAddr(strings.TrimSpace(x)); err == nil && inAny(pools, a) && free(a) {
				return a, true
			}
		}
		return netip.Addr{}, false
	}
	for _, p := range pools {
		for _, r := range p.ranges {
			// Bounded walk: a huge IPv6 pool is never exhausted on the test bed.
			for a, n := r[0], 0; a.IsValid() && a.Compare(r[1]) <= 0 && n < 1<<16; a, n = a.Next(), n+1 {
				if free(a) {
					return a, true
				}
			}
		}
	}
	return netip.Addr{}, false
}
