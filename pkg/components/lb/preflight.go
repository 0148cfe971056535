package lb

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ServiceCIDRsGVR are the ServiceCIDR objects (networking.k8s.io/v1, Kubernetes 1.33+).
var ServiceCIDRsGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "servicecidrs"}

// ServiceRanges is what is known of the cluster's service IPs.
type ServiceRanges struct {
	// CIDRs come from --service-cidr and from ServiceCIDR objects where the server serves them.
	CIDRs []netip.Prefix
	// KubernetesIP is the ClusterIP of default/kubernetes, the first service IP (always known).
	KubernetesIP netip.Addr
	// Complete is false when only KubernetesIP is known (older clusters without ServiceCIDR and
	// no --service-cidr): the rest of the range is not guessed.
	Complete bool
}

// ReadServiceRanges reads the service CIDRs from ServiceCIDR objects (when served) and the
// kubernetes Service's ClusterIP; given (--service-cidr) are added as they are.
func (in *Installer) ReadServiceRanges(ctx context.Context, given []netip.Prefix) (ServiceRanges, error) {
	sr := ServiceRanges{CIDRs: append([]netip.Prefix(nil), given...), Complete: len(given) > 0}
	list, err := in.Clients.Dynamic.Resource(ServiceCIDRsGVR).List(ctx, metav1.ListOptions{})
	switch {
	case err == nil:
		for _, o := range list.Items {
			cidrs, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "cidrs")
			for _, c := range cidrs {
				if p, err := netip.ParsePrefix(c); err == nil {
					sr.CIDRs = append(sr.CIDRs, p)
					sr.Complete = true
				}
			}
		}
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
		// Not served before 1.33, or not readable by the caller: fall back to the flag.
	default:
		return sr, fmt.Errorf("lb: list ServiceCIDRs: %w", err)
	}
	svc, err := in.Clients.Client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return sr, fmt.Errorf("lb: read Service default/kubernetes: %w", err)
	}
	if err == nil {
		if a, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
			sr.KubernetesIP = a
		}
	}
	return sr, nil
}

// NodeAddress is one InternalIP or ExternalIP of a node.
type NodeAddress struct {
	Node string
	Type corev1.NodeAddressType
	IP   netip.Addr
}

// ReadNodeAddresses lists every node's InternalIP and ExternalIP.
func (in *Installer) ReadNodeAddresses(ctx context.Context) ([]NodeAddress, error) {
	nodes, err := in.Clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("lb: list nodes: %w", err)
	}
	var out []NodeAddress
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
				continue
			}
			if ip, err := netip.ParseAddr(a.Address); err == nil {
				out = append(out, NodeAddress{Node: n.Name, Type: a.Type, IP: ip.Unmap()})
			}
		}
	}
	return out, nil
}

// OverlapWarnings says which pool entries contain a node address or overlap the service range:
// MetalLB would hand out (and answer ARP for) addresses that are already in use.
func OverlapWarnings(pool []Range, nodes []NodeAddress, svc ServiceRanges) []string {
	var out []string
	for _, r := range pool {
		for _, n := range nodes {
			if r.Contains(n.IP) {
				out = append(out, fmt.Sprintf("--addresses %s contains %s, the %s of node %s: MetalLB would give a Service the node's own address; leave it out of the pool", r.Entry, n.IP, n.Type, n.Node))
			}
		}
		for _, c := range svc.CIDRs {
			if r.Overlaps(PrefixRange(c)) {
				out = append(out, fmt.Sprintf("--addresses %s overlaps the service CIDR %s: ClusterIPs and LoadBalancer IPs would clash; use addresses outside it", r.Entry, c.Masked()))
			}
		}
		if !svc.Complete && svc.KubernetesIP.IsValid() && r.Contains(svc.KubernetesIP) {
			out = append(out, fmt.Sprintf("--addresses %s contains %s, the ClusterIP of Service default/kubernetes (inside the service CIDR): use addresses outside the service CIDR", r.Entry, svc.KubernetesIP))
		}
	}
	return out
}

// Preflight reads node addresses and service ranges and prints a warning on stderr for every
// overlap with the pool. It changes nothing. When the service CIDR cannot be read and was not
// given, it says so instead of guessing.
func (in *Installer) Preflight(ctx context.Context, pool []Range, serviceCIDRs []netip.Prefix) ([]string, error) {
	nodes, err := in.ReadNodeAddresses(ctx)
	if err != nil {
		return nil, err
	}
	svc, err := in.ReadServiceRanges(ctx, serviceCIDRs)
	if err != nil {
		return nil, err
	}
	warnings := OverlapWarnings(pool, nodes, svc)
	for _, w := range warnings {
		in.Progress.Logf("lb: warning: %s", w)
	}
	if !svc.Complete {
		in.Progress.Logf("lb: this cluster does not serve ServiceCIDR objects: only the kubernetes Service's ClusterIP %s was checked against --addresses; give --service-cidr (the kube-apiserver's --service-cluster-ip-range, on RKE services.kube-api.service_cluster_ip_range) to check the whole range", svc.KubernetesIP)
	}
	return warnings, nil
}
