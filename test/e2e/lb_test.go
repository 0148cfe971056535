package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestLB runs the lb section end to end on the test bed with the real MetalLB chart 0.15.3 (CRDs
// in a subchart) from the fixture repository and the MetalLB controller stand-in.
func TestLB(t *testing.T) {
	hooks := standins.NewAdmissionWebhooks(webhookDelay)
	c := testbed.StartT(t, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{standins.NewMetalLBController(), hooks}})
	repo := testbed.ChartRepo(t)
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	t.Run("bad input exits 2 and creates nothing", func(t *testing.T) {
		cases := []struct {
			name string
			args []string
			want string
		}{
			{"no --addresses", lbArgs(repo), "--addresses: is empty"},
			{"empty --addresses", lbArgs(repo, "--addresses="), "--addresses: is empty"},
			{"empty entry", lbArgs(repo, "--addresses", "127.240.0.10/32,,127.240.0.11/32"), "entry 2: empty entry"},
			{"bare address", lbArgs(repo, "--addresses", "127.240.0.10"), "neither a CIDR nor a range"},
			{"prefix too long", lbArgs(repo, "--addresses", "127.240.0.10/33"), "is not a CIDR"},
			{"octet out of range", lbArgs(repo, "--addresses", "127.240.0.300/32"), "is not a CIDR"},
			{"host bits set", lbArgs(repo, "--addresses", "127.240.0.10/24"), "did you mean 127.240.0.0/24"},
			{"first after last", lbArgs(repo, "--addresses", "127.240.0.20-127.240.0.10"), "swap them"},
			{"mixed families", lbArgs(repo, "--addresses", "127.240.0.10-::1"), "mixes IPv4 and IPv6"},
			{"open range", lbArgs(repo, "--addresses", "127.240.0.10-"), "last address: missing"},
			{"three ends", lbArgs(repo, "--addresses", "127.240.0.1-127.240.0.2-127.240.0.3"), "more than one '-'"},
			{"host name", lbArgs(repo, "--addresses", "lb.example-127.240.0.9"), `"lb.example" is not an IP address`},
			{"zone", lbArgs(repo, "--addresses", "fe80::1%lo/128"), "zone"},
			{"overlapping entries", lbArgs(repo, "--addresses", "127.240.0.0/28,127.240.0.5/32"), "overlap"},
			{"bad pool name", lbArgs(repo, "--addresses", lbPoolA, "--pool", "AI_Pool"), "--pool"},
			{"bad namespace", lbArgs(repo, "--addresses", lbPoolA, "--release-namespace", "metallb.system"), "not a valid namespace name"},
			{"bad service CIDR", lbArgs(repo, "--addresses", lbPoolA, "--service-cidr", "127.96.0.0"), "--service-cidr"},
			{"unknown chart version", lbArgs(repo, "--addresses", lbPoolA, "--chart-version", "9.9.9"), `no version "9.9.9"`},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := runPlugin(t, c, tc.args...)
				if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
					t.Fatalf("want exit 2 with %q on stderr, got %d: %s", tc.want, r.code, r.stderr)
				}
			})
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, lb.DefaultNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s exists after bad input (err %v)", lb.DefaultNamespace, err)
		}
	})

	t.Run("dry run warns about overlaps and changes nothing", func(t *testing.T) {
		// 127.0.0.1 is both nodes' InternalIP; 127.96.0.0/16 is the test bed's service CIDR.
		r := runPlugin(t, c, lbArgs(repo, "--addresses", "127.0.0.1/32,127.96.0.10/32", "--dry-run=client")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		for _, w := range []string{"contains 127.0.0.1, the InternalIP of node", "overlaps the service CIDR " + testbed.ServiceCIDR} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr does not warn %q", w)
			}
		}
		if !strings.Contains(r.stdout, "helmrelease/metallb installed (client dry run)") || !strings.Contains(r.stdout, "ipaddresspool/ai-platform-pool created (client dry run)") {
			t.Errorf("dry run does not show what it would do:\n%s", r.stdout)
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, lb.DefaultNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s exists after a dry run (err %v)", lb.DefaultNamespace, err)
		}
	})

	t.Run("first run installs", func(t *testing.T) {
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA, "-o", "json")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		got := lbActions(lbReport(t, r))
		want := map[string]string{"HelmRelease/metallb": output.Installed, "IPAddressPool/ai-platform-pool": output.Created, "L2Advertisement/ai-platform": output.Created}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
		if a := lbPoolAddresses(t, dyn); a != lbPoolA {
			t.Fatalf("pool addresses %q, want %q", a, lbPoolA)
		}
		// The pool went through MetalLB's validating webhook, served only once the controller
		// was Ready (+ the routing delay): lb waited for it like every other section.
		if n := hooks.Calls(lb.DefaultNamespace + "/" + lb.WebhookService); n == 0 {
			t.Fatalf("MetalLB's webhook was never called (served: %v)", hooks.Served())
		}
	})

	t.Run("second run is unchanged", func(t *testing.T) {
		before := lbState(t, c, dyn)
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA)...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 3 {
			t.Fatalf("want 3 result lines, got %q", lines)
		}
		for _, l := range lines {
			if !strings.Contains(l, " unchanged") {
				t.Errorf("not unchanged: %s", l)
			}
		}
		if after := lbState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("resourceVersions moved:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("a field someone else changed is taken back with a note naming them", func(t *testing.T) {
		pools := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace)
		u, err := pools.Get(ctx, lb.DefaultPool, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedStringSlice(u.Object, []string{"127.240.0.99/32"}, "spec", "addresses")
		if _, err := pools.Update(ctx, u, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA)...)
		if r.code != 0 || !strings.Contains(r.stderr, "took back .spec.addresses (changed by \"kubectl-edit\"") || !strings.Contains(r.stdout, "ipaddresspool/ai-platform-pool configured") {
			t.Fatalf("want the pool taken back with a note naming kubectl-edit, got exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if a := lbPoolAddresses(t, dyn); a != lbPoolA {
			t.Fatalf("pool addresses %q, want %q", a, lbPoolA)
		}
		before := lbState(t, c, dyn)
		if r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA)...); r.code != 0 || strings.Contains(r.stdout, "configured") || strings.Contains(r.stderr, "took back") {
			t.Fatalf("the run after the take-back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if after := lbState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("resourceVersions moved:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("changing --addresses updates just the pool", func(t *testing.T) {
		before := lbState(t, c, dyn)
		// --probe in a dry run is skipped and said so, as apply -f does (it would create a Service).
		dry := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "--probe", "--dry-run=server")...)
		if dry.code != 0 || !strings.Contains(dry.stdout, "ipaddresspool/ai-platform-pool configured (server dry run)") || !strings.Contains(dry.stdout, "helmrelease/metallb unchanged (server dry run)") {
			t.Fatalf("server dry run: exit %d", dry.code)
		}
		if !strings.Contains(dry.stdout+dry.stderr, "probe skipped: dry run") {
			t.Fatalf("server dry run with --probe: no note that the probe was skipped")
		}
		lbNoProbeServices(t, c)
		if after := lbState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("a dry run moved resourceVersions:\nbefore %v\nafter  %v", before, after)
		}
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "-o", "json")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		got := lbActions(lbReport(t, r))
		want := map[string]string{"HelmRelease/metallb": output.Unchanged, "IPAddressPool/ai-platform-pool": output.Configured, "L2Advertisement/ai-platform": output.Unchanged}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %q, want %q", k, got[k], v)
			}
		}
		after := lbState(t, c, dyn)
		for k, v := range before {
			if moved := after[k] != v; moved != (k == "ipaddresspools/"+lb.DefaultPool) {
				t.Errorf("%s: resourceVersion %s -> %s", k, v, after[k])
			}
		}
		if a := lbPoolAddresses(t, dyn); a != lbPoolB {
			t.Fatalf("pool addresses %q, want %q", a, lbPoolB)
		}
	})

	t.Run("renaming --pool prunes the old pool (ApplySet members), --prune=false keeps it", func(t *testing.T) {
		pools := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace)
		names := func() string {
			list, err := pools.List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range list.Items {
				out = append(out, p.GetName())
			}
			sort.Strings(out)
			return strings.Join(out, ",")
		}
		renamed := lbArgs(repo, "--addresses", lbPoolB, "--pool", "renamed-pool", "--l2-advertisement", "renamed-l2")
		before := lbState(t, c, dyn)
		dry := runPlugin(t, c, append(renamed, "--dry-run=server")...)
		if dry.code != 0 || !strings.Contains(dry.stdout, "ipaddresspool/ai-platform-pool pruned (server dry run)") || !strings.Contains(dry.stdout, "l2advertisement/ai-platform pruned (server dry run)") {
			t.Fatalf("server dry run: exit %d, want the old pool and L2Advertisement reported as pruned", dry.code)
		}
		if after := lbState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("a dry run moved resourceVersions:\nbefore %v\nafter  %v", before, after)
		}
		// --diff shows the pruned pool as a removed file, as kubectl diff --prune does.
		diff := runPlugin(t, c, append(renamed, "--diff")...)
		if diff.code != 1 || !regexp.MustCompile(`(?m)^diff -u -N \S+/metallb\.io\.v1beta1\.IPAddressPool\.metallb-system\.ai-platform-pool `).MatchString(diff.stdout) ||
			!strings.Contains(diff.stdout, "-  name: ai-platform-pool") {
			t.Errorf("--diff renaming the pool: exit %d, want 1 and the old pool removed:\n%s", diff.code, diff.stdout)
		}
		if after := lbState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("--diff moved resourceVersions:\nbefore %v\nafter  %v", before, after)
		}
		if r := runPlugin(t, c, append(renamed, "--prune=false")...); r.code != 0 || names() != "ai-platform-pool,renamed-pool" {
			t.Fatalf("--prune=false: exit %d, pools %s: want both", r.code, names())
		}
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "-o", "json")...)
		if r.code != 0 {
			t.Fatalf("back to the default names: exit %d", r.code)
		}
		got := lbActions(lbReport(t, r))
		if got["IPAddressPool/renamed-pool"] != kube.Pruned || got["L2Advertisement/renamed-l2"] != kube.Pruned || got["IPAddressPool/ai-platform-pool"] != output.Unchanged {
			t.Fatalf("want the renamed pool and L2Advertisement pruned, the default pool unchanged: %v", got)
		}
		if names() != "ai-platform-pool" {
			t.Fatalf("pools %s: want only the default one", names())
		}
		// kubectl's view of the set: the members carry its part-of label.
		members, err := pools.List(context.Background(), metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=" + kube.ApplySetID("lb")})
		if err != nil || len(members.Items) != 1 || members.Items[0].GetName() != lb.DefaultPool {
			t.Fatalf("kubectl get -l applyset.kubernetes.io/part-of=...: %v %v", members, err)
		}
		if r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB)...); r.code != 0 || strings.Contains(r.stdout, "pruned") {
			t.Fatalf("re-run: exit %d, or pruned again:\n%s", r.code, r.stdout)
		}
	})

	t.Run("probe gets an IP from the pool and leaves no Service", func(t *testing.T) {
		r := runPlugin(t, c, "lb", "--probe", "--timeout", "1m", "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		rep := lbReport(t, r)
		if len(rep.Notes) != 1 {
			t.Fatalf("want one probe note, got %v", rep.Notes)
		}
		ipText := strings.Fields(strings.SplitN(rep.Notes[0], "external IP ", 2)[1])[0]
		ip := netip.MustParseAddr(ipText)
		pool, _ := lb.ParseRange(lbPoolB)
		if !pool.Contains(ip) {
			t.Fatalf("probe IP %s not in pool %s", ip, lbPoolB)
		}
		lbNoProbeServices(t, c)
	})

	t.Run("probe: a full pool is proven by its holder; no address (controller down) fails or is interrupted; no Service left", func(t *testing.T) {
		// A pool with one address, held by another Service: the probe can never get an IP.
		full := lb.Objects(&lb.Spec{ReleaseNamespace: lb.DefaultNamespace, Pool: "full-pool", Addresses: []string{"127.240.0.50/32"}})[0]
		if _, err := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Create(ctx, full, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		holder := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "holder", Namespace: "default", Annotations: map[string]string{lb.PoolAnnotation: "full-pool"}},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}}}
		if _, err := c.Client.CoreV1().Services("default").Create(ctx, holder, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lbWaitFor(t, "the holder Service to get the pool's only address", func() bool {
			s, err := c.Client.CoreV1().Services("default").Get(ctx, "holder", metav1.GetOptions{})
			return err == nil && len(s.Status.LoadBalancer.Ingress) == 1
		})

		// Every address held (the runbook's one IP taken by Kubeflow's ingress gateway): the
		// holder proves the pool, and no probe Service is created (it could never get one).
		r := runPlugin(t, c, "lb", "--probe", "--pool", "full-pool", "--timeout", "3s")
		if r.code != 0 || !strings.Contains(r.stderr, "every address of pool full-pool is in use; LoadBalancer Service default/holder holds 127.240.0.50") {
			t.Fatalf("want exit 0 proving the pool by its holder, got %d", r.code)
		}
		lbNoProbeServices(t, c)

		// A pool with a free address while the MetalLB controller is down: no IP comes.
		free := lb.Objects(&lb.Spec{ReleaseNamespace: lb.DefaultNamespace, Pool: "free-pool", Addresses: []string{"127.240.0.51/32"}})[0]
		if _, err := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Create(ctx, free, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		scaleController := func(n int32) {
			t.Helper()
			sc, err := c.Client.AppsV1().Deployments(lb.DefaultNamespace).GetScale(ctx, "metallb-controller", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sc.Spec.Replicas = n
			if _, err := c.Client.AppsV1().Deployments(lb.DefaultNamespace).UpdateScale(ctx, "metallb-controller", sc, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			lbWaitFor(t, fmt.Sprintf("metallb-controller at %d ready replicas", n), func() bool {
				d, err := c.Client.AppsV1().Deployments(lb.DefaultNamespace).Get(ctx, "metallb-controller", metav1.GetOptions{})
				return err == nil && d.Status.ReadyReplicas == n && d.Status.Replicas == n
			})
		}
		scaleController(0)
		defer scaleController(1)
		r = runPlugin(t, c, "lb", "--probe", "--pool", "free-pool", "--timeout", "3s")
		if r.code != 1 || !strings.Contains(r.stderr, "got no external IP from pool free-pool after 3s") {
			t.Fatalf("want exit 1 saying no IP came, got %d", r.code)
		}
		lbNoProbeServices(t, c)

		// Ctrl-C while waiting: the Service is deleted before the plugin exits.
		cmd := exec.Command(testbed.PluginBinary(t), "lb", "--probe", "--pool", "free-pool", "--timeout", "5m")
		cmd.Env = c.Env("NO_COLOR=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lbWaitFor(t, "the probe Service to exist", func() bool {
			l, err := c.Client.CoreV1().Services(lb.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: lb.ProbeLabel})
			return err == nil && len(l.Items) == 1
		})
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		t.Logf("interrupted probe: %v\n%s", err, stderr.String())
		if err == nil || !strings.Contains(stderr.String(), "interrupted") {
			t.Fatalf("want a failed, interrupted probe, got %v", err)
		}
		lbNoProbeServices(t, c)
		_ = c.Client.CoreV1().Services("default").Delete(ctx, "holder", metav1.DeleteOptions{})
		_ = dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Delete(ctx, "full-pool", metav1.DeleteOptions{})
		_ = dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Delete(ctx, "free-pool", metav1.DeleteOptions{})
	})

	t.Run("kube-proxy in IPVS mode: warning, then --fix-strict-arp", func(t *testing.T) {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: lb.KubeProxyConfigMap, Namespace: lb.KubeProxyNamespace},
			Data: map[string]string{lb.KubeProxyConfigKey: "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: false\n"}}
		if _, err := c.Client.CoreV1().ConfigMaps(lb.KubeProxyNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		defer c.Client.CoreV1().ConfigMaps(lb.KubeProxyNamespace).Delete(ctx, lb.KubeProxyConfigMap, metav1.DeleteOptions{})
		r := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB)...)
		if r.code != 0 || !strings.Contains(r.stderr, "IPVS mode without ipvs.strictARP") || !strings.Contains(r.stderr, "--fix-strict-arp") {
			t.Fatalf("want a strictARP warning naming --fix-strict-arp, got exit %d", r.code)
		}
		// A chart version the repository does not have is refused before kube-proxy is edited.
		bad := runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "--fix-strict-arp", "--chart-version", "0.99.0")...)
		if after, err := c.Client.CoreV1().ConfigMaps(lb.KubeProxyNamespace).Get(ctx, lb.KubeProxyConfigMap, metav1.GetOptions{}); bad.code != 2 || err != nil || strings.Contains(after.Data[lb.KubeProxyConfigKey], "strictARP: true") {
			t.Fatalf("--fix-strict-arp with a chart version that does not exist: exit %d (want 2), kube-proxy edited: %v", bad.code, err == nil && strings.Contains(after.Data[lb.KubeProxyConfigKey], "strictARP: true"))
		}
		rv := runPlugin(t, c, "verify", "--section", "lb")
		if rv.code != 0 || !strings.Contains(rv.stdout, "LB-006") {
			t.Fatalf("verify: a strictARP warning is not a failure: exit %d", rv.code)
		}
		r = runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "--fix-strict-arp")...)
		if r.code != 0 || !strings.Contains(r.stdout, "configmap/kube-proxy configured") || strings.Count(r.stderr, "rollout restart daemonset kube-proxy") != 1 || strings.Contains(r.stdout, "rollout restart") {
			t.Fatalf("--fix-strict-arp: exit %d", r.code)
		}
		got, err := c.Client.CoreV1().ConfigMaps(lb.KubeProxyNamespace).Get(ctx, lb.KubeProxyConfigMap, metav1.GetOptions{})
		if err != nil || !strings.Contains(got.Data[lb.KubeProxyConfigKey], "strictARP: true") || !strings.Contains(got.Data[lb.KubeProxyConfigKey], "mode: ipvs") {
			t.Fatalf("ConfigMap after fix: %v %v", got.Data, err)
		}
		r = runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolB, "--fix-strict-arp")...)
		if r.code != 0 || strings.Contains(r.stdout, "configmap/kube-proxy") || strings.Contains(r.stdout, "configured") {
			t.Fatalf("second --fix-strict-arp run changed something (exit %d)", r.code)
		}
	})

	t.Run("verify --section lb is green, with the ingress gateway's IP", func(t *testing.T) {
		gw := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: lb.IngressGateway, Namespace: "default"},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http2", Port: 80}}}}
		if _, err := c.Client.CoreV1().Services("default").Create(ctx, gw, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		lbWaitFor(t, "the ingress gateway to get an external IP", func() bool {
			s, err := c.Client.CoreV1().Services("default").Get(ctx, lb.IngressGateway, metav1.GetOptions{})
			return err == nil && len(s.Status.LoadBalancer.Ingress) > 0
		})
		var rep verify.Report
		r := runPlugin(t, c, "verify", "--section", "lb", "-o", "json", "--strict")
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("verify -o json: %v", err)
		}
		if r.code != 0 {
			t.Fatalf("verify --section lb: exit %d", r.code)
		}
		ids := map[string]bool{}
		for _, x := range rep.Results {
			ids[x.ID] = true
			if x.ID == "LB-005" && !strings.Contains(x.Message, "external IP 127.240.0.") {
				t.Errorf("LB-005: %s", x.Message)
			}
		}
		for _, id := range []string{"LB-001", "LB-002", "LB-003", "LB-004", "LB-005", "LB-006"} {
			if !ids[id] {
				t.Errorf("no result for %s", id)
			}
		}
	})
	t.Run("uninstall deletes the pool and the release", func(t *testing.T) { assertLBUninstalls(t, c) })
}

// TestLBWebhookWithoutEndpoints turns admission webhooks on (nothing serves MetalLB's) and keeps
// the controller from becoming ready, so metallb-webhook-service has no endpoints: applying the
// pool fails within --timeout with an error naming the object and the webhook, and no pool exists.
func TestLBWebhookWithoutEndpoints(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Webhooks: true})
	repo := testbed.ChartRepo(t)
	r := runPlugin(t, c, "lb", "--chart-repo", repo, "--addresses", lbPoolA, "--wait=false", "--timeout", "15s",
		"--set", "controller.nodeSelector.flexigrobots-test=no-such-node")
	want := "lb: apply IPAddressPool metallb-system/ai-platform-pool: webhook metallb-webhook-service not ready when the section's timeout (15s) ran out: no ready endpoints"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit 1 with %q, got %d", want, r.code)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Get(context.Background(), lb.DefaultPool, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("pool exists after the failure (err %v)", err)
	}
}

// TestLBOnV121 runs on the runbook's Kubernetes 1.21, which serves no ServiceCIDR objects: the
// overlap check says it only knows the kubernetes Service's ClusterIP (it does not guess the
// range) and still warns about that address, also when kubectl's discovery cache still lists
// MetalLB's kinds from a cluster that was at the same address before. MetalLB 0.15.3's CRDs use CEL validation rules
// (Kubernetes >= 1.25): asked for explicitly it is refused with exit 2 naming the chart that
// installs, and nothing of the release is stored; with no version, lb picks 0.14.3 and installs.
func TestLBOnV121(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Version: testbed.V121, Webhooks: true, StandIns: []testbed.StandIn{standins.NewMetalLBController(), standins.NewAdmissionWebhooks(webhookDelay)}})
	repo := testbed.ChartRepo(t)
	ctx := context.Background()
	svc, err := c.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	leaveStaleMetalLBKinds(t, c, lbArgs(repo, "--addresses", svc.Spec.ClusterIP+"/32", "--dry-run=client")...)
	r := runPlugin(t, c, lbArgs(repo, "--addresses", svc.Spec.ClusterIP+"/32", "--dry-run=client")...)
	if r.code != 0 || !strings.Contains(r.stderr, "ClusterIP of Service default/kubernetes") || !strings.Contains(r.stderr, "give --service-cidr") {
		t.Fatalf("want the ClusterIP warning and the --service-cidr hint, got exit %d", r.code)
	}
	r = runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA, "--service-cidr", testbed.ServiceCIDR, "--chart-version", "0.15.3")...)
	for _, w := range []string{"0.15.3 cannot be installed on Kubernetes v1.21.14", "it needs Kubernetes 1.25+", "the release that installs here: --chart-version 0.14.3"} {
		if r.code != 2 || !strings.Contains(r.stderr, w) {
			t.Fatalf("want exit 2 saying %q, got %d", w, r.code)
		}
	}
	secrets, err := c.Client.CoreV1().Secrets(lb.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil || len(secrets.Items) != 0 {
		t.Fatalf("release records stored after the refusal: %d (err %v)", len(secrets.Items), err)
	}
	r = runPlugin(t, c, lbArgs(repo, "--addresses", lbPoolA, "--service-cidr", testbed.ServiceCIDR)...)
	if r.code != 0 || !strings.Contains(r.stderr, "MetalLB chart 0.14.3 picked") || !strings.Contains(r.stdout, "chart metallb-0.14.3") {
		t.Fatalf("with no version: want 0.14.3 picked and installed, got exit %d", r.code)
	}
	if strings.Contains(r.stderr, "give --service-cidr") {
		t.Error("--service-cidr was given, yet the hint to give it was printed")
	}
	assertLBUninstalls(t, c)
}
