package lb

import (
	"fmt"
	"net/netip"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// Spec is the lb section's desired state: the platform file's `lb` block (json names as in
// schema/platform.schema.json), and what the `lb` command's flags fill.
type Spec struct {
	// Addresses are the pool's entries: CIDRs or FIRST-LAST ranges, none overlapping. The
	// command may leave them out with Probe (probe only); the file requires them.
	Addresses []string `json:"addresses"`
	// Pool and L2Advertisement name the IPAddressPool and the L2Advertisement.
	Pool            string `json:"pool,omitempty"`
	L2Advertisement string `json:"l2Advertisement,omitempty"`
	// ReleaseNamespace holds the release, the pool and the L2Advertisement.
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	ReleaseName      string `json:"releaseName,omitempty"`
	// ServiceCIDRs are the cluster's service ranges, for the overlap warnings (read from the
	// cluster's ServiceCIDR objects where served).
	ServiceCIDRs []string `json:"serviceCIDRs,omitempty"`
	// FixStrictARP sets ipvs.strictARP in the kube-proxy ConfigMap when kube-proxy runs in IPVS
	// mode.
	FixStrictARP bool `json:"fixStrictARP,omitempty"`
	// Probe proves afterwards that a LoadBalancer Service gets an IP from the pool (skipped in a
	// dry run).
	Probe bool `json:"probe,omitempty"`
	// Chart is the MetalLB chart; an empty version picks the one that fits the server.
	Chart core.ChartSource `json:"chart,omitempty"`
	// Registry is where MetalLB's and the probe's pods pull their images from (imageRegistry,
	// imagePullSecrets; --image-registry, --image-pull-secret).
	images.Registry
	// NoPrune keeps the pool and L2Advertisement an earlier run applied under other names. Only
	// the command sets it (--prune=false); the file always prunes.
	NoPrune bool `json:"-"`
}

// Default fills every field left empty with the runbook's default (the command's flag defaults).
// The chart version stays empty: Apply picks the one that fits the server.
func (s *Spec) Default() {
	for _, f := range []struct {
		p   *string
		def string
	}{{&s.Pool, DefaultPool}, {&s.L2Advertisement, DefaultL2}, {&s.ReleaseNamespace, DefaultNamespace}, {&s.ReleaseName, DefaultRelease}} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
	s.Chart.Default(DefaultChartRepo, "")
}

// Validate checks the Spec alone, each problem at its field.
func (s *Spec) Validate() core.Problems {
	_, ps := ParseAddresses(s.Addresses)
	ps = ps.At("addresses")
	for _, f := range []struct{ field, v string }{{"pool", s.Pool}, {"l2Advertisement", s.L2Advertisement}, {"releaseName", s.ReleaseName}} {
		if errs := validation.IsDNS1123Subdomain(f.v); len(errs) > 0 {
			ps = append(ps, core.Problemf(f.field, "%q is not a valid object name: %s", f.v, errs[0]))
		}
	}
	if errs := validation.IsDNS1123Label(s.ReleaseNamespace); len(errs) > 0 {
		ps = append(ps, core.Problemf("releaseNamespace", "%q is not a valid namespace name: %s", s.ReleaseNamespace, errs[0]))
	}
	_, cidrs := parseServiceCIDRs(s.ServiceCIDRs)
	ps = append(ps, cidrs...)
	ps = append(ps, s.Chart.Validate().At("chart")...)
	return append(ps, s.Registry.Validate()...)
}

// Resolve makes the chart's local paths absolute with abs.
func (s *Spec) Resolve(abs func(string) string) { s.Chart.Resolve(abs) }

// Load checks that the chart's local files exist.
func (s *Spec) Load() core.Problems { return s.Chart.CheckFiles().At("chart") }

// ranges are the pool's entries parsed (the Spec validated: problems are left out).
func (s *Spec) ranges() []Range {
	rs, _ := ParseAddresses(s.Addresses)
	return rs
}

// serviceCIDRs are the given service ranges parsed (the Spec validated).
func (s *Spec) serviceCIDRs() []netip.Prefix {
	ps, _ := parseServiceCIDRs(s.ServiceCIDRs)
	return ps
}

// parseServiceCIDRs parses serviceCIDRs, each problem at serviceCIDRs[i].
func parseServiceCIDRs(entries []string) ([]netip.Prefix, core.Problems) {
	var out []netip.Prefix
	var ps core.Problems
	for i, c := range entries {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			ps = append(ps, core.Problemf(fmt.Sprintf("serviceCIDRs[%d]", i), "%q is not a CIDR (%s): give the kube-apiserver's --service-cluster-ip-range (on RKE services.kube-api.service_cluster_ip_range)", c, core.PrefixProblem(err)))
			continue
		}
		out = append(out, p)
	}
	return out, ps
}

// Objects returns the IPAddressPool and the L2Advertisement (which advertises that pool) of s,
// the pool's entries as MetalLB stores them.
func Objects(s *Spec) []*unstructured.Unstructured {
	entries := Entries(s.ranges())
	addrs := make([]any, 0, len(entries))
	for _, e := range entries {
		addrs = append(addrs, e)
	}
	pool := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
		"metadata": map[string]any{"name": s.Pool, "namespace": s.ReleaseNamespace},
		"spec":     map[string]any{"addresses": addrs},
	}}
	l2 := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement",
		"metadata": map[string]any{"name": s.L2Advertisement, "namespace": s.ReleaseNamespace},
		"spec":     map[string]any{"ipAddressPools": []any{s.Pool}},
	}}
	return []*unstructured.Unstructured{pool, l2}
}
