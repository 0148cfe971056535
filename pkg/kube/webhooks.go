package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// webhookRule is one admission webhook rule that calls a Service.
type webhookRule struct {
	webhook  string // configuration/webhook name, for messages
	service  string // namespace/name
	groups   []string
	versions []string
	res      []string
	ops      []admissionv1.OperationType
}

// webhookGate handles objects a live admission webhook could not admit yet: the wait is
// announced once per webhook, the apply is retried (with backoff) until the webhook answers or
// the run's time is up, and then the error names the webhook, its Service and its endpoints.
// The retried apply itself is the proof that the webhook answers: ready endpoints are not (on a
// real cluster kube-proxy routes to a new pod a moment after it is Ready), and on the test bed
// endpoints are never published at all (the API server refuses EndpointSlices with loopback
// addresses, and every pod IP there is loopback), so nothing may wait for them.
type webhookGate struct {
	clients *Clients
	once    sync.Once
	rules   []webhookRule
	mu      sync.Mutex
	told    map[string]bool // webhooks whose failed call was announced
}

func newWebhookGate(c *Clients) *webhookGate {
	return &webhookGate{clients: c, told: map[string]bool{}}
}

// load lists the live webhook configurations once (the set's own are applied after everything
// else, so only live ones can intercept this run).
func (g *webhookGate) load(ctx context.Context) {
	g.once.Do(func() {
		if g.clients.Client == nil {
			return
		}
		adm := g.clients.Client.AdmissionregistrationV1()
		if v, err := adm.ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{}); err == nil {
			for _, c := range v.Items {
				for _, w := range c.Webhooks {
					g.add(c.Name+"/"+w.Name, w.ClientConfig, w.Rules)
				}
			}
		}
		if m, err := adm.MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{}); err == nil {
			for _, c := range m.Items {
				for _, w := range c.Webhooks {
					g.add(c.Name+"/"+w.Name, w.ClientConfig, w.Rules)
				}
			}
		}
	})
}

func (g *webhookGate) add(name string, cc admissionv1.WebhookClientConfig, rules []admissionv1.RuleWithOperations) {
	if cc.Service == nil {
		return
	}
	for _, r := range rules {
		g.rules = append(g.rules, webhookRule{
			webhook: name, service: cc.Service.Namespace + "/" + cc.Service.Name,
			groups: r.APIGroups, versions: r.APIVersions, res: r.Resources, ops: r.Operations,
		})
	}
}

// announce says, once per webhook, that a call to it failed and the object waits for it (on a
// real cluster: its pods not yet serving, or not yet routed to); later failures only update the
// progress line. The webhook's name comes from the API server's error.
func (g *webhookGate) announce(err error, o *unstructured.Unstructured, progress *output.Progress) {
	name := webhookNameOf(err.Error())
	reason := webhookFailureReason(err.Error())
	g.mu.Lock()
	first := !g.told[name]
	g.told[name] = true
	g.mu.Unlock()
	if first {
		progress.Logf("waiting for webhook %s to answer (%s): %s is retried until it does", name, reason, Ref(o))
		return
	}
	progress.Update("still waiting for webhook %s (%s)", name, reason)
}

// webhookNameOf extracts the webhook name from `failed calling webhook "NAME": ...`.
func webhookNameOf(msg string) string {
	_, rest, ok := strings.Cut(msg, `failed calling webhook "`)
	if !ok {
		return "(unnamed)"
	}
	name, _, _ := strings.Cut(rest, `"`)
	return name
}

// webhookFailureReason is the last part of the error (e.g. "connect: connection refused").
func webhookFailureReason(msg string) string {
	for _, r := range []string{"connection refused", "no endpoints available", "i/o timeout", "context deadline exceeded", "x509:", "tls:", "EOF"} {
		if strings.Contains(msg, r) {
			if r == "x509:" || r == "tls:" {
				return "its certificate is not trusted yet"
			}
			return r
		}
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && len(msg)-i < 80 {
		return msg[i+2:]
	}
	return "call failed"
}

// explain turns the last failed call of a webhook that never answered into an error naming the
// first live webhook that may intercept o, its Service and what its endpoints say, with the
// command to look further.
func (g *webhookGate) explain(o *unstructured.Unstructured, resource string, last error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g.load(ctx)
	gvk := o.GroupVersionKind()
	for _, r := range g.rules {
		if !matches(r.groups, gvk.Group) || !matches(r.versions, gvk.Version) || !matches(r.res, resource) || !matchesOps(r.ops) {
			continue
		}
		ns, name, _ := strings.Cut(r.service, "/")
		state := "no ready endpoints"
		if n, err := readyEndpoints(ctx, g.clients, ns, name); err != nil {
			state = "endpoints unknown: " + err.Error()
		} else if n > 0 {
			state = fmt.Sprintf("%d ready endpoints, but the call fails", n)
		}
		return &waitError{For: "webhook " + r.webhook, Err: fmt.Errorf("webhook %s not ready: service %s: %s (is its Deployment running? kubectl get endpointslices -n %s -l kubernetes.io/service-name=%s) (last apply: %w)", r.webhook, r.service, state, ns, name, last)}
	}
	if strings.Contains(last.Error(), "failed calling webhook") {
		return &waitError{For: "webhook " + webhookNameOf(last.Error()), Err: last}
	}
	return last
}

// readyEndpoints counts the ready endpoints of a Service from its EndpointSlices.
func readyEndpoints(ctx context.Context, c *Clients, ns, name string) (int, error) {
	slices, err := c.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				n++
			}
		}
	}
	return n, nil
}

// ServiceReadyEndpoints is readyEndpoints for other packages (e.g. explaining MetalLB's webhook).
func ServiceReadyEndpoints(ctx context.Context, c *Clients, ns, name string) (int, error) {
	return readyEndpoints(ctx, c, ns, name)
}

func matches(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v || strings.HasPrefix(x, v+"/") {
			return true
		}
	}
	return false
}

func matchesOps(ops []admissionv1.OperationType) bool {
	for _, o := range ops {
		if o == admissionv1.OperationAll || o == admissionv1.Create || o == admissionv1.Update {
			return true
		}
	}
	return false
}
