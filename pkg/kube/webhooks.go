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
	"k8s.io/apimachinery/pkg/util/wait"

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

// webhookGate holds back an object that a live webhook could not admit until the webhook's
// Service has a ready endpoint, so a webhook that is still starting is waited for instead of
// hammered, and one that never starts is named in the error.
type webhookGate struct {
	clients *Clients
	once    sync.Once
	rules   []webhookRule
	mu      sync.Mutex
	ready   map[string]bool
	told    map[string]bool // webhooks whose failed call was announced
	extra   []*unstructured.Unstructured
}

func newWebhookGate(c *Clients, set []*unstructured.Unstructured) *webhookGate {
	return &webhookGate{clients: c, ready: map[string]bool{}, told: map[string]bool{}, extra: set}
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
	progress.Update("waiting for webhook %s to answer (%s)", name, reason)
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

// waitFor blocks until every webhook Service that may intercept o has a ready endpoint.
func (g *webhookGate) waitFor(ctx context.Context, o *unstructured.Unstructured, resource string, progress *output.Progress) error {
	g.load(ctx)
	gvk := o.GroupVersionKind()
	for _, r := range g.rules {
		if !matches(r.groups, gvk.Group) || !matches(r.versions, gvk.Version) || !matches(r.res, resource) || !matchesOps(r.ops) {
			continue
		}
		if err := g.waitService(ctx, r, progress); err != nil {
			return err
		}
	}
	return nil
}

func (g *webhookGate) waitService(ctx context.Context, r webhookRule, progress *output.Progress) error {
	g.mu.Lock()
	ok := g.ready[r.service]
	g.mu.Unlock()
	if ok {
		return nil
	}
	ns, name, _ := strings.Cut(r.service, "/")
	var last string
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		n, err := readyEndpoints(ctx, g.clients, ns, name)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if n == 0 {
			last = "no ready endpoints"
			progress.Update("waiting for webhook %s: service %s has no ready endpoints", r.webhook, r.service)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("webhook %s not ready: service %s: %s (is its Deployment running? kubectl get endpointslices -n %s -l kubernetes.io/service-name=%s)", r.webhook, r.service, last, ns, name)
	}
	g.mu.Lock()
	g.ready[r.service] = true
	g.mu.Unlock()
	return nil
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

// ServiceReadyEndpoints is readyEndpoints for other packages (e.g. waiting for MetalLB's webhook).
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
