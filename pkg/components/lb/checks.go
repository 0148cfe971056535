package lb

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Name is the section's name: the file's block, --only/--skip, `verify --section`.
const Name = "lb"

// IngressGateway is the Service the platform exposes through MetalLB.
const IngressGateway = "istio-ingressgateway"

var (
	deploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")
	daemonSetsGVR  = appsv1.SchemeGroupVersion.WithResource("daemonsets")
	servicesGVR    = corev1.SchemeGroupVersion.WithResource("services")
)

// Expect narrows the checks to what one `lb` run wants; the zero value (verify) looks at the
// pools this plugin manages, or every pool when it manages none.
type Expect struct {
	Namespace string
	Pool      string
	// Addresses, when set, must equal the pool's (same addresses, any spelling).
	Addresses []Range
}

// Checks returns the checks of section "lb" for `verify`.
func Checks() []checks.Check { return ChecksFor(Expect{}) }

// ChecksFor returns the checks with e's expectations, in ID order.
func ChecksFor(e Expect) []checks.Check {
	gvrs := func(g ...schema.GroupVersionResource) []schema.GroupVersionResource { return g }
	return []checks.Check{
		{ID: "LB-001", Section: Name, Title: "MetalLB controller ready", Severity: checks.Error, Resources: gvrs(deploymentsGVR),
			Run: func(s *checks.Snapshot) []checks.Result {
				return workloadReady[appsv1.Deployment](s, e, deploymentsGVR, "controller")
			}},
		{ID: "LB-002", Section: Name, Title: "MetalLB speaker ready on every node", Severity: checks.Error, Resources: gvrs(daemonSetsGVR),
			Run: func(s *checks.Snapshot) []checks.Result {
				return workloadReady[appsv1.DaemonSet](s, e, daemonSetsGVR, "speaker")
			}},
		{ID: "LB-003", Section: Name, Title: "IPAddressPool exists and matches", Severity: checks.Error, Resources: gvrs(IPAddressPoolsGVR),
			Run: func(s *checks.Snapshot) []checks.Result { return poolMatches(s, e) }},
		{ID: "LB-004", Section: Name, Title: "IPAddressPool advertised", Severity: checks.Error, Resources: gvrs(IPAddressPoolsGVR, L2AdvertisementsGVR, BGPAdvertisementsGVR),
			Run: func(s *checks.Snapshot) []checks.Result { return poolAdvertised(s, e) }},
		{ID: "LB-005", Section: Name, Title: "istio-ingressgateway has an external IP", Severity: checks.Error, Resources: gvrs(servicesGVR, IPAddressPoolsGVR),
			Run: ingressGatewayIP},
		{ID: "LB-006", Section: Name, Title: "kube-proxy strictARP in IPVS mode", Severity: checks.Warn, Probes: []checks.Probe{proxyModeProbe},
			Run: strictARPCheck},
		cluster.ImageRegistryCheck(Name, "LB-007", registryNamespaces),
	}
}

// registryNamespaces is where MetalLB's pods run (LB-007): the recorded block's
// releaseNamespace, DefaultNamespace when it leaves it out.
func registryNamespaces(_ *checks.Snapshot, block []byte) ([]string, error) {
	ns, err := cluster.BlockString(block, "releaseNamespace")
	return []string{cmp.Or(ns, DefaultNamespace)}, err
}

const installFix = "run `kubectl flexigrobots lb --addresses FIRST-LAST` (installs MetalLB and its pool)"

// isMetalLB tells whether labels mark a MetalLB component (the chart's or the manifests' labels).
func isMetalLB(l map[string]string, component string) bool {
	return (l["app.kubernetes.io/name"] == "metallb" || l["app"] == "metallb") &&
		(l["app.kubernetes.io/component"] == component || l["component"] == component)
}

func workloadReady[T appsv1.Deployment | appsv1.DaemonSet](s *checks.Snapshot, e Expect, gvr schema.GroupVersionResource, component string) []checks.Result {
	items, err := checks.ListAs[T](s, gvr)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on "+gvr.Resource+".apps")}
	}
	var rs []checks.Result
	for i := range items {
		var meta metav1.ObjectMeta
		var ready bool
		var state string
		switch w := any(&items[i]).(type) {
		case *appsv1.Deployment:
			want := int32(1)
			if w.Spec.Replicas != nil {
				want = *w.Spec.Replicas
			}
			meta, ready = w.ObjectMeta, w.Status.ReadyReplicas >= want && w.Status.UpdatedReplicas >= want
			state = fmt.Sprintf("%d/%d ready", w.Status.ReadyReplicas, want)
		case *appsv1.DaemonSet:
			meta = w.ObjectMeta
			ready = w.Status.DesiredNumberScheduled > 0 && w.Status.NumberReady == w.Status.DesiredNumberScheduled
			state = fmt.Sprintf("%d/%d nodes ready", w.Status.NumberReady, w.Status.DesiredNumberScheduled)
		}
		if !isMetalLB(meta.Labels, component) || (e.Namespace != "" && meta.Namespace != e.Namespace) {
			continue
		}
		ref := fmt.Sprintf("%s %s/%s", strings.TrimSuffix(gvr.Resource, "s"), meta.Namespace, meta.Name)
		if ready {
			rs = append(rs, checks.Pass("%s %s", ref, state))
		} else {
			rs = append(rs, checks.Fail(fmt.Sprintf("%s %s", ref, state),
				fmt.Sprintf("look at its pods: kubectl -n %s get pods -l app.kubernetes.io/component=%s; kubectl -n %s describe pod NAME (events: image pull, scheduling)", meta.Namespace, component, meta.Namespace)))
		}
	}
	if len(rs) == 0 {
		return []checks.Result{checks.NotInstalled("no MetalLB "+component+" found", installFix)}
	}
	return rs
}

// relevantPools are the pools e designates: the named one, else those this plugin manages,
// else all.
func relevantPools(s *checks.Snapshot, e Expect) ([]unstructured.Unstructured, []unstructured.Unstructured, error) {
	all, err := s.List(IPAddressPoolsGVR)
	if err != nil {
		return nil, nil, err
	}
	var named, ours []unstructured.Unstructured
	for _, p := range all {
		if e.Pool != "" && p.GetName() == e.Pool && (e.Namespace == "" || p.GetNamespace() == e.Namespace) {
			named = append(named, p)
		}
		if p.GetLabels()[kube.ManagedByLabel] == kube.FieldManager {
			ours = append(ours, p)
		}
	}
	switch {
	case e.Pool != "":
		return named, all, nil
	case len(ours) > 0:
		return ours, all, nil
	}
	return all, all, nil
}

func poolError(err error) []checks.Result {
	if checks.IsNotServed(err) {
		return []checks.Result{checks.NotInstalled("MetalLB's CRDs are not installed (no ipaddresspools.metallb.io)", installFix)}
	}
	return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on ipaddresspools.metallb.io")}
}

// poolRanges parses a pool's spec.addresses.
func poolRanges(p unstructured.Unstructured) ([]Range, error) {
	entries, _, _ := unstructured.NestedStringSlice(p.Object, "spec", "addresses")
	if len(entries) == 0 {
		return nil, fmt.Errorf("no addresses")
	}
	var out []Range
	for _, x := range entries {
		r, err := ParseRange(x)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func poolMatches(s *checks.Snapshot, e Expect) []checks.Result {
	pools, _, err := relevantPools(s, e)
	if err != nil {
		return poolError(err)
	}
	if len(pools) == 0 {
		what := "no IPAddressPool"
		if e.Pool != "" {
			what = fmt.Sprintf("no IPAddressPool %s/%s", e.Namespace, e.Pool)
		}
		return []checks.Result{checks.Fail(what+": LoadBalancer Services get no external IP", installFix)}
	}
	var rs []checks.Result
	for _, p := range pools {
		ref := p.GetNamespace() + "/" + p.GetName()
		got, err := poolRanges(p)
		switch {
		case err != nil:
			rs = append(rs, checks.Fail(fmt.Sprintf("IPAddressPool %s: %v", ref, err), "fix spec.addresses: re-run `kubectl flexigrobots lb --addresses ...`"))
		case len(e.Addresses) > 0 && !SameAddresses(got, e.Addresses):
			rs = append(rs, checks.Fail(fmt.Sprintf("IPAddressPool %s has addresses %s, want %s", ref, strings.Join(Entries(got), ","), strings.Join(Entries(e.Addresses), ",")),
				"re-run `kubectl flexigrobots lb --addresses "+strings.Join(Entries(e.Addresses), ",")+"`; if another tool manages the pool, change it there"))
		default:
			rs = append(rs, checks.Pass("IPAddressPool %s: %s", ref, strings.Join(Entries(got), ",")))
		}
	}
	return rs
}

// advertises tells whether an L2/BGPAdvertisement covers pool: it names it, selects it by label,
// or names and selects nothing (then it advertises every pool).
func advertises(adv, pool unstructured.Unstructured) bool {
	if adv.GetNamespace() != pool.GetNamespace() {
		return false
	}
	names, _, _ := unstructured.NestedStringSlice(adv.Object, "spec", "ipAddressPools")
	sels, _, _ := unstructured.NestedSlice(adv.Object, "spec", "ipAddressPoolSelectors")
	if len(names) == 0 && len(sels) == 0 {
		return true
	}
	if slices.Contains(names, pool.GetName()) {
		return true
	}
	for _, raw := range sels {
		m, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		var ls metav1.LabelSelector
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &ls); err != nil {
			continue
		}
		if sel, err := metav1.LabelSelectorAsSelector(&ls); err == nil && sel.Matches(labels.Set(pool.GetLabels())) {
			return true
		}
	}
	return false
}

func poolAdvertised(s *checks.Snapshot, e Expect) []checks.Result {
	pools, _, err := relevantPools(s, e)
	if err != nil {
		return poolError(err)
	}
	if len(pools) == 0 {
		return []checks.Result{checks.Fail("no IPAddressPool to advertise", installFix)}
	}
	var advs []unstructured.Unstructured
	for _, gvr := range []schema.GroupVersionResource{L2AdvertisementsGVR, BGPAdvertisementsGVR} {
		items, err := s.List(gvr)
		if err != nil && !checks.IsNotServed(err) {
			return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on "+gvr.Resource+".metallb.io")}
		}
		advs = append(advs, items...)
	}
	var rs []checks.Result
	for _, p := range pools {
		var by []string
		for _, a := range advs {
			if advertises(a, p) {
				by = append(by, strings.ToLower(a.GetKind())+"/"+a.GetName())
			}
		}
		sort.Strings(by)
		ref := p.GetNamespace() + "/" + p.GetName()
		if len(by) == 0 {
			rs = append(rs, checks.Fail("IPAddressPool "+ref+" is not advertised: MetalLB assigns its IPs but no node answers for them",
				"run `kubectl flexigrobots lb --addresses ...` (creates the L2Advertisement), or apply an L2Advertisement in "+p.GetNamespace()+" with spec.ipAddressPools: ["+p.GetName()+"]"))
			continue
		}
		rs = append(rs, checks.Pass("IPAddressPool %s advertised by %s", ref, strings.Join(by, ", ")))
	}
	return rs
}

func ingressGatewayIP(s *checks.Snapshot) []checks.Result {
	svcs, err := checks.ListAs[corev1.Service](s, servicesGVR)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on services")}
	}
	var ranges []Range
	pools, poolsErr := s.List(IPAddressPoolsGVR)
	for _, p := range pools {
		rs, _ := poolRanges(p)
		ranges = append(ranges, rs...)
	}
	if checks.IsNotServed(poolsErr) {
		poolsErr = nil // MetalLB not installed: no pool holds any address
	}
	var rs []checks.Result
	for _, svc := range svcs {
		if svc.Name != IngressGateway {
			continue
		}
		ref := svc.Namespace + "/" + svc.Name
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			// The type is the kubeflow section's choice (KUBEFLOW-002 reports it): the fix goes
			// through that command, since a hand-made patch would conflict with its next run.
			rs = append(rs, checks.Note(fmt.Sprintf("Service %s is of type %s, not LoadBalancer: nothing for MetalLB to assign (KUBEFLOW-002)", ref, svc.Spec.Type),
				"to expose it through MetalLB: kubectl flexigrobots kubeflow --ingress-service-type LoadBalancer"))
			continue
		}
		var ips []string
		inPool := false
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ips = append(ips, in.IP+in.Hostname)
			if a, err := netip.ParseAddr(in.IP); err == nil {
				inPool = inPool || slices.ContainsFunc(ranges, func(r Range) bool { return r.Contains(a) })
			}
		}
		switch {
		case len(ips) == 0:
			rs = append(rs, checks.Fail("Service "+ref+" has no external IP (pending)",
				fmt.Sprintf("kubectl -n %s describe service %s (MetalLB events); check that a pool has free addresses (LB-003) and that the MetalLB controller is ready (LB-001)", svc.Namespace, svc.Name)))
		case !inPool && poolsErr != nil:
			// The pools could not be read (for a read-only identity: not allowed): whether one
			// holds the address is unknown, not a finding.
			rs = append(rs, checks.CannotEvaluate(fmt.Errorf("Service %s has external IP %s; whether a pool holds it: %w", ref, strings.Join(ips, ","), poolsErr),
				"the caller needs list on ipaddresspools.metallb.io"))
		case !inPool:
			rs = append(rs, checks.Warning(fmt.Sprintf("Service %s has external IP %s, which is in no IPAddressPool", ref, strings.Join(ips, ",")),
				"another load balancer assigned it, or the pool changed: kubectl -n "+svc.Namespace+" describe service "+svc.Name))
		default:
			rs = append(rs, checks.Pass("Service %s external IP %s", ref, strings.Join(ips, ",")))
		}
	}
	if len(rs) == 0 {
		return []checks.Result{checks.Pass("no %s Service (Kubeflow not installed yet): nothing to check", IngressGateway)}
	}
	return rs
}

// proxyModeProbe reads the kube-proxy ConfigMap once per run.
var proxyModeProbe = checks.Probe{Name: "lb-kube-proxy-mode", Run: func(ctx context.Context, env checks.Env) (any, error) {
	in := &Installer{Clients: &kube.Clients{Client: env.Client}}
	return in.ReadProxyMode(ctx)
}, Rules: []rbacv1.PolicyRule{access.Named("", []string{"configmaps"}, []string{"kube-proxy"}, "get")}}

func strictARPCheck(s *checks.Snapshot) []checks.Result {
	m, err := checks.ProbeAs[ProxyMode](s, proxyModeProbe.Name)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs get on configmaps in kube-system")}
	}
	switch {
	case !m.Found:
		return []checks.Result{checks.Pass("no ConfigMap kube-system/kube-proxy (kube-proxy configured by flags, e.g. RKE): with --proxy-mode=ipvs also set --ipvs-strict-arp")}
	case m.NeedsStrictARP():
		return []checks.Result{checks.Fail("kube-proxy runs in IPVS mode without ipvs.strictARP: true: MetalLB's L2 announcements may be answered by every node", StrictARPFix)}
	}
	mode := m.Mode
	if mode == "" {
		mode = "default (iptables)"
	}
	return []checks.Result{checks.Pass("kube-proxy mode %s, strictARP %t", mode, m.StrictARP)}
}
