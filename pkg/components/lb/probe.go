package lb

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// ProbeLabel marks the probe's temporary Services.
const ProbeLabel = "flexigrobots.io/lb-probe"

// ProbeResult is what `lb --probe` found.
type ProbeResult struct {
	Service string `json:"service"`
	IP      string `json:"ip"`
	Pool    string `json:"pool"`
	// Existing is set when every address of the pool is held already: Service is the one
	// holding IP, and no probe Service was created.
	Existing bool `json:"existing,omitempty"`
}

// Probe proves MetalLB hands out addresses: it creates a temporary LoadBalancer Service in
// namespace asking for an IP from pool, waits up to timeout for an external IP, checks the IP is
// in the pool, and deletes the Service in every case (also when ctx is cancelled, e.g. Ctrl-C).
func (in *Installer) Probe(ctx context.Context, namespace, pool string, timeout time.Duration) (res ProbeResult, err error) {
	res.Pool = pool
	p, err := in.Clients.Dynamic.Resource(IPAddressPoolsGVR).Namespace(namespace).Get(ctx, pool, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return res, fmt.Errorf("lb: probe: no IPAddressPool %s/%s: create it first with `kubectl flexigrobots lb --addresses ...`", namespace, pool)
		}
		return res, fmt.Errorf("lb: probe: read IPAddressPool %s/%s: %w", namespace, pool, err)
	}
	ranges, err := poolRanges(*p)
	if err != nil {
		return res, fmt.Errorf("lb: probe: IPAddressPool %s/%s: %w", namespace, pool, err)
	}
	if holder, ip, err := in.holder(ctx, ranges); err != nil {
		return res, err
	} else if holder != "" {
		res.Service, res.IP, res.Existing = holder, ip, true
		return res, nil
	}

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "flexigrobots-lb-probe-", Namespace: namespace,
			Labels:      map[string]string{kube.ManagedByLabel: kube.FieldManager, ProbeLabel: "true"},
			Annotations: map[string]string{PoolAnnotation: pool},
		},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer,
			// Selects nothing: only the address assignment is probed, no traffic.
			Selector: map[string]string{ProbeLabel: "no-pods"},
			Ports:    []corev1.ServicePort{{Name: "probe", Port: 80, TargetPort: intstr.FromInt32(80), Protocol: corev1.ProtocolTCP}},
		},
	}
	services := in.Clients.Client.CoreV1().Services(namespace)
	created, err := services.Create(ctx, svc, metav1.CreateOptions{FieldManager: kube.FieldManager})
	if err != nil {
		return res, fmt.Errorf("lb: probe: create LoadBalancer Service in %s: %w", namespace, err)
	}
	res.Service = namespace + "/" + created.Name
	defer func() {
		// A fresh context: the command's may be cancelled already (Ctrl-C).
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		derr := services.Delete(dctx, created.Name, metav1.DeleteOptions{})
		if derr != nil && !apierrors.IsNotFound(derr) && err == nil {
			err = fmt.Errorf("lb: probe: delete Service %s: %w (delete it by hand: kubectl -n %s delete service %s)", res.Service, derr, namespace, created.Name)
		}
	}()

	in.Progress.Update("lb: probe: waiting for Service %s to get an external IP from pool %s", res.Service, pool)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var ips []string
	werr := wait.PollUntilContextCancel(wctx, 300*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		s, err := services.Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		ips = ips[:0]
		for _, i := range s.Status.LoadBalancer.Ingress {
			if i.IP != "" {
				ips = append(ips, i.IP)
			}
		}
		return len(ips) > 0, nil
	})
	in.Progress.Done()
	if werr != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return res, fmt.Errorf("lb: probe: interrupted: %w (Service %s deleted)", ctx.Err(), res.Service)
		}
		// Its own wait or the command's --timeout (which it shares) ran out: no address came.
		return res, fmt.Errorf("lb: probe: Service %s got no external IP from pool %s after %s: is the MetalLB controller running and does the pool have free addresses? (kubectl -n %s get pods; kubectl -n %s describe ipaddresspool %s)",
			res.Service, pool, timeout.Round(time.Second), namespace, namespace, pool)
	}
	res.IP = ips[0]
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip)
		if err != nil || !slices.ContainsFunc(ranges, func(r Range) bool { return r.Contains(a) }) {
			return res, fmt.Errorf("lb: probe: Service %s got external IP %s, which is not in pool %s (%s): another load balancer implementation may be assigning IPs",
				res.Service, ip, pool, strings.Join(Entries(ranges), ","))
		}
	}
	return res, nil
}
