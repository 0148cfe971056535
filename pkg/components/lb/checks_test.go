package lb

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

func TestChecksRegister(t *testing.T) {
	r := checks.NewRegistry()
	r.Register(Checks()...) // panics on a malformed check
	if got := r.Sections(); len(got) != 1 || got[0] != Name {
		t.Fatalf("sections %v", got)
	}
}

func metallbLabels(component string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": component}
}

func pool(ns, name string, managed bool, addrs ...string) unstructured.Unstructured {
	p := *Objects(&Spec{ReleaseNamespace: ns, Pool: name, Addresses: addrs})[0]
	if managed {
		p.SetLabels(map[string]string{kube.ManagedByLabel: kube.FieldManager})
	}
	if _, bad := ParseAddresses(addrs); len(addrs) > 0 && len(bad) > 0 { // unparsable entries, stored as given
		_ = unstructured.SetNestedStringSlice(p.Object, addrs, "spec", "addresses")
	}
	return p
}

func byID(t *testing.T, s *checks.Snapshot, e Expect, id string) []checks.Result {
	t.Helper()
	for _, c := range ChecksFor(e) {
		if c.ID == id {
			return checks.Evaluate(s, []checks.Check{c})
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func want(t *testing.T, rs []checks.Result, sev checks.Severity, text string) {
	t.Helper()
	for _, r := range rs {
		if r.Severity == sev && strings.Contains(r.Message, text) {
			return
		}
	}
	t.Fatalf("no %s result saying %q in %+v", sev, text, rs)
}

func TestWorkloadChecks(t *testing.T) {
	ready := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "metallb-controller", Namespace: "metallb-system", Labels: metallbLabels("controller")},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1)}, Status: appsv1.DeploymentStatus{ReadyReplicas: 1, UpdatedReplicas: 1}}
	speaker := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "metallb-speaker", Namespace: "metallb-system", Labels: metallbLabels("speaker")},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, NumberReady: 1}}
	other := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	s := checks.NewSnapshot().WithObjects(deploymentsGVR, ready, other).WithObjects(daemonSetsGVR, speaker)
	want(t, byID(t, s, Expect{}, "LB-001"), checks.OK, "deployment metallb-system/metallb-controller 1/1 ready")
	want(t, byID(t, s, Expect{}, "LB-002"), checks.Error, "daemonset metallb-system/metallb-speaker 1/2 nodes ready")
	// Another namespace is not the one asked for.
	want(t, byID(t, s, Expect{Namespace: "lb"}, "LB-001"), checks.Error, "no MetalLB controller")
}

func TestPoolChecks(t *testing.T) {
	ours := pool("metallb-system", "ai-platform-pool", true, "198.51.100.10-198.51.100.20")
	theirs := pool("metallb-system", "other", false, "203.0.113.0/28")
	l2 := *Objects(&Spec{ReleaseNamespace: "metallb-system", Pool: "ai-platform-pool", L2Advertisement: "ai-platform"})[1]
	s := checks.NewSnapshot().
		WithItems(IPAddressPoolsGVR, []unstructured.Unstructured{ours, theirs}).
		WithItems(L2AdvertisementsGVR, []unstructured.Unstructured{l2}).
		WithNotServed(BGPAdvertisementsGVR)

	// verify: only the pool we manage is looked at.
	rs := byID(t, s, Expect{}, "LB-003")
	want(t, rs, checks.OK, "metallb-system/ai-platform-pool: 198.51.100.10-198.51.100.20")
	if len(rs) != 1 {
		t.Fatalf("want one result for the managed pool, got %+v", rs)
	}
	want(t, byID(t, s, Expect{}, "LB-004"), checks.OK, "advertised by l2advertisement/ai-platform")

	// The command's expectation: same addresses in another spelling pass, others fail.
	same, _ := ParseAddresses([]string{"198.51.100.10-198.51.100.15", "198.51.100.16-198.51.100.20"})
	want(t, byID(t, s, Expect{Namespace: "metallb-system", Pool: "ai-platform-pool", Addresses: same}, "LB-003"), checks.OK, "ai-platform-pool")
	diff, _ := ParseAddresses([]string{"198.51.100.10-198.51.100.30"})
	want(t, byID(t, s, Expect{Namespace: "metallb-system", Pool: "ai-platform-pool", Addresses: diff}, "LB-003"), checks.Error, "want 198.51.100.10-198.51.100.30")
	want(t, byID(t, s, Expect{Namespace: "metallb-system", Pool: "missing"}, "LB-003"), checks.Error, "no IPAddressPool metallb-system/missing")
	// The other pool is named by no advertisement.
	want(t, byID(t, s, Expect{Namespace: "metallb-system", Pool: "other"}, "LB-004"), checks.Error, "metallb-system/other is not advertised")

	// An advertisement without pools or selectors advertises all of them.
	all := *Objects(&Spec{ReleaseNamespace: "metallb-system", L2Advertisement: "all"})[1]
	unstructured.RemoveNestedField(all.Object, "spec")
	s2 := checks.NewSnapshot().WithItems(IPAddressPoolsGVR, []unstructured.Unstructured{theirs}).
		WithItems(L2AdvertisementsGVR, []unstructured.Unstructured{all}).WithItems(BGPAdvertisementsGVR, nil)
	want(t, byID(t, s2, Expect{}, "LB-004"), checks.OK, "advertised by l2advertisement/all")

	bad := pool("metallb-system", "broken", true, "203.0.113.9-203.0.113.1")
	want(t, byID(t, checks.NewSnapshot().WithItems(IPAddressPoolsGVR, []unstructured.Unstructured{bad}), Expect{}, "LB-003"), checks.Error, "swap them")
	want(t, byID(t, checks.NewSnapshot().WithNotServed(IPAddressPoolsGVR), Expect{}, "LB-003"), checks.Error, "CRDs are not installed")
}

func TestIngressGatewayCheck(t *testing.T) {
	p := pool("metallb-system", "ai-platform-pool", true, "198.51.100.10-198.51.100.20")
	gw := func(typ corev1.ServiceType, ip string) *corev1.Service {
		s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: IngressGateway, Namespace: "istio-system"}, Spec: corev1.ServiceSpec{Type: typ}}
		if ip != "" {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		}
		return s
	}
	snap := func(objs ...*corev1.Service) *checks.Snapshot {
		s := checks.NewSnapshot().WithItems(IPAddressPoolsGVR, []unstructured.Unstructured{p})
		for _, o := range objs {
			s.WithObjects(servicesGVR, o)
		}
		if len(objs) == 0 {
			s.WithItems(servicesGVR, nil)
		}
		return s
	}
	want(t, byID(t, snap(), Expect{}, "LB-005"), checks.OK, "no istio-ingressgateway Service")
	want(t, byID(t, snap(gw(corev1.ServiceTypeLoadBalancer, "")), Expect{}, "LB-005"), checks.Error, "has no external IP")
	want(t, byID(t, snap(gw(corev1.ServiceTypeLoadBalancer, "198.51.100.12")), Expect{}, "LB-005"), checks.OK, "external IP 198.51.100.12")
	want(t, byID(t, snap(gw(corev1.ServiceTypeLoadBalancer, "192.0.2.1")), Expect{}, "LB-005"), checks.Warn, "in no IPAddressPool")
	nodePort := byID(t, snap(gw(corev1.ServiceTypeNodePort, "")), Expect{}, "LB-005")
	want(t, nodePort, checks.Info, "not LoadBalancer")
	// The fix is the plugin's own command: a kubectl patch of the type would conflict with the
	// next `kubeflow` run, which owns the field.
	if fix := nodePort[0].Fix; !strings.Contains(fix, "kubectl flexigrobots kubeflow --ingress-service-type LoadBalancer") || strings.Contains(fix, "patch") {
		t.Errorf("LB-005 fix for a NodePort gateway: %q", fix)
	}
}

func TestStrictARPCheck(t *testing.T) {
	s := checks.NewSnapshot().WithProbe(proxyModeProbe.Name, ProxyMode{Found: true, Mode: "ipvs"}, nil)
	rs := byID(t, s, Expect{}, "LB-006")
	want(t, rs, checks.Warn, "IPVS mode without ipvs.strictARP")
	if !strings.Contains(rs[0].Fix, "--fix-strict-arp") {
		t.Fatalf("fix %q does not name --fix-strict-arp", rs[0].Fix)
	}
	want(t, byID(t, checks.NewSnapshot().WithProbe(proxyModeProbe.Name, ProxyMode{}, nil), Expect{}, "LB-006"), checks.OK, "no ConfigMap kube-system/kube-proxy")
}
