package standins

import (
	"context"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// The gateway and auth objects whose rules decide whether an anonymous HTTP request for
// http://DOMAIN/.well-known/acme-challenge/TOKEN reaches cert-manager's solver. This file is the
// stand-in's own reading of what Envoy, istio and authservice do with them (see
// the facts of both Kubeflow versions); it shares no code with the product.
var (
	sGatewaysGVR     = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "gateways"}
	sEnvoyFiltersGVR = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1alpha3", Resource: "envoyfilters"}
	sAuthzGVR        = schema.GroupVersionResource{Group: "security.istio.io", Version: "v1beta1", Resource: "authorizationpolicies"}
)

// challengeReachable tells whether the challenge URL for domain passes the cluster's current
// gateway and auth rules, and if not, what blocks it (cert-manager's self check would see 403,
// 302 to login, 503 or a redirect).
func challengeReachable(ctx context.Context, c kubernetes.Interface, dyn dynamic.Interface, domain string) (bool, string) {
	path := "/.well-known/acme-challenge/stand-in-token"
	gw, err := dyn.Resource(sGatewaysGVR).Namespace("kubeflow").Get(ctx, "kubeflow-gateway", metav1.GetOptions{})
	if err != nil {
		return false, "no Gateway kubeflow/kubeflow-gateway: nothing listens on port 80"
	}
	if ok, why := port80Serves(gw, domain); !ok {
		return false, why
	}
	// CUSTOM (v1.10's oauth2-proxy) and DENY policies on the ingress gateway (istio of both
	// versions enforces them).
	pols, err := dyn.Resource(sAuthzGVR).Namespace("istio-system").List(ctx, metav1.ListOptions{})
	if err == nil {
		for _, p := range pols.Items {
			action, _, _ := unstructured.NestedString(p.Object, "spec", "action")
			sel, _, _ := unstructured.NestedStringMap(p.Object, "spec", "selector", "matchLabels")
			if (action != "CUSTOM" && action != "DENY") || sel["app"] != "istio-ingressgateway" {
				continue
			}
			if policyMatches(p.Object, path) {
				if action == "CUSTOM" {
					return false, "AuthorizationPolicy " + p.GetName() + " sends the request to oauth2-proxy: 302 to the login page"
				}
				return false, "AuthorizationPolicy " + p.GetName() + " denies it: 403 RBAC: access denied"
			}
		}
	}
	// Kubeflow v1.5: EnvoyFilter authn-filter sends every request to authservice (fails closed).
	if _, err := dyn.Resource(sEnvoyFiltersGVR).Namespace("istio-system").Get(ctx, "authn-filter", metav1.GetOptions{}); err == nil {
		return authserviceSkips(ctx, c, path)
	} else if !apierrors.IsNotFound(err) {
		return false, err.Error()
	}
	return true, ""
}

// port80Serves: an HTTP server on port 80 for the domain, without an HTTPS redirect.
func port80Serves(gw *unstructured.Unstructured, domain string) (bool, string) {
	servers, _, _ := unstructured.NestedSlice(gw.Object, "spec", "servers")
	for _, s := range servers {
		m, _ := s.(map[string]any)
		num, _, _ := unstructured.NestedInt64(m, "port", "number")
		if num != 80 {
			continue
		}
		hosts, _, _ := unstructured.NestedStringSlice(m, "hosts")
		if !slices.Contains(hosts, "*") && !slices.Contains(hosts, domain) {
			continue
		}
		if redirect, _, _ := unstructured.NestedBool(m, "tls", "httpsRedirect"); redirect {
			return false, "port 80 answers 301 to https: the solver's route is on port 80 only"
		}
		return true, ""
	}
	return false, "no port-80 server of kubeflow-gateway serves " + domain
}

// policyMatches: an anonymous request (no Authorization header, no request principal) to path
// matches one of the policy's rules. from/when are satisfied by such a request in Kubeflow's
// policies (notRequestPrincipals ["*"], headers[authorization] notValues ["*"]); to decides.
func policyMatches(obj map[string]any, path string) bool {
	rules, _, _ := unstructured.NestedSlice(obj, "spec", "rules")
	for _, r := range rules {
		to, _ := r.(map[string]any)["to"].([]any)
		if len(to) == 0 {
			return true
		}
		for _, t := range to {
			op, _ := t.(map[string]any)["operation"].(map[string]any)
			paths, _ := op["paths"].([]any)
			notPaths, _ := op["notPaths"].([]any)
			if (len(paths) == 0 || anyPathMatches(paths, path)) && !anyPathMatches(notPaths, path) {
				return true
			}
		}
	}
	return false
}

// anyPathMatches applies Istio's path patterns: exact, "prefix*", "*suffix", "*".
func anyPathMatches(patterns []any, path string) bool {
	for _, p := range patterns {
		s, _ := p.(string)
		switch {
		case s == "*":
			return true
		case strings.HasSuffix(s, "*") && strings.HasPrefix(path, strings.TrimSuffix(s, "*")):
			return true
		case strings.HasPrefix(s, "*") && strings.HasSuffix(path, strings.TrimPrefix(s, "*")):
			return true
		case s == path:
			return true
		}
	}
	return false
}

// authserviceSkips: authservice lets path through when a prefix in SKIP_AUTH_URI, as it read the
// ConfigMap at its start-up, matches; a running pod is needed (its Service publishes not-ready
// addresses). A pod created before the ConfigMap's last change still has the old list.
func authserviceSkips(ctx context.Context, c kubernetes.Interface, path string) (bool, string) {
	cm, err := c.CoreV1().ConfigMaps("istio-system").Get(ctx, "oidc-authservice-parameters", metav1.GetOptions{})
	if err != nil {
		return false, "authservice has no ConfigMap: 503"
	}
	pods, err := c.CoreV1().Pods("istio-system").List(ctx, metav1.ListOptions{LabelSelector: "app=authservice"})
	if err != nil {
		return false, err.Error()
	}
	changed := lastChange(cm.ManagedFields)
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
			continue
		}
		if p.CreationTimestamp.Time.Before(changed) {
			return false, "authservice runs with the SKIP_AUTH_URI it read before the ConfigMap changed (not restarted): 503 OIDC Setup is not complete yet"
		}
		for _, prefix := range strings.Fields(cm.Data["SKIP_AUTH_URI"]) {
			if strings.HasPrefix(path, prefix) {
				return true, ""
			}
		}
		return false, "authservice: path not in SKIP_AUTH_URI: 503 OIDC Setup is not complete yet"
	}
	return false, "no running authservice pod: the ext_authz filter fails closed (403)"
}

func lastChange(mf []metav1.ManagedFieldsEntry) time.Time {
	var t time.Time
	for _, e := range mf {
		if e.Time != nil && e.Time.After(t) {
			t = e.Time.Time
		}
	}
	return t
}
