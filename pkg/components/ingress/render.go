package ingress

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// The objects Render writes on, as each Kubeflow version ships them.
const (
	// AuthserviceParams (v1.5) is the ConfigMap whose SKIP_AUTH_URI (space-separated path
	// prefixes) authservice reads at start-up; AuthserviceName its StatefulSet.
	AuthserviceParams = "oidc-authservice-parameters"
	AuthserviceName   = "authservice"
	skipAuthKey       = "SKIP_AUTH_URI"
	// AuthnFilter (v1.5) is the EnvoyFilter sending every gateway request to authservice.
	AuthnFilter = "authn-filter"
)

// AuthPolicies (v1.10) are the ingress gateway's AuthorizationPolicies whose notPaths let a path
// through without login.
var AuthPolicies = []string{"istio-ingressgateway-oauth2-proxy", "istio-ingressgateway-require-jwt"}

// challengeNotPath is the Istio path pattern (prefix match) of the HTTP-01 challenge.
const challengeNotPath = ChallengePrefix + "*"

// httpsPortName names the HTTPS server Render adds (and the only one it takes away).
const httpsPortName = "https"

// IsGateway tells whether u is Gateway kubeflow/kubeflow-gateway.
func IsGateway(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().Group == "networking.istio.io" && u.GetKind() == "Gateway" &&
		u.GetNamespace() == GatewayNamespace && u.GetName() == GatewayName
}

// IsAuthPolicy tells whether u is one of the v1.10 ingress AuthorizationPolicies.
func IsAuthPolicy(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().Group == "security.istio.io" && u.GetKind() == "AuthorizationPolicy" &&
		u.GetNamespace() == IstioNamespace && slices.Contains(AuthPolicies, u.GetName())
}

// IsAuthserviceParams tells whether u is the v1.5 authservice ConfigMap.
func IsAuthserviceParams(u *unstructured.Unstructured) bool {
	return u.GroupVersionKind().Group == "" && u.GetKind() == "ConfigMap" &&
		u.GetNamespace() == IstioNamespace && u.GetName() == AuthserviceParams
}

// IsShared tells whether both `kubeflow` and `tls` write u (Render renders it).
func IsShared(u *unstructured.Unstructured) bool {
	return IsGateway(u) || IsAuthPolicy(u) || IsAuthserviceParams(u)
}

// Render makes the objects among objs that carry TLS say what s asks for: the Gateway's servers
// are its own non-TLS servers plus the HTTPS server of s (and, with HTTPRedirect, port 80
// redirecting); the auth allow-list lets the ACME challenge path through exactly when s is ACME.
// A nil s renders the upstream state. Objects Render already rendered come out the same, so it
// serves both `kubeflow` (on its build) and `tls` (on what is applied). It returns one line per
// object it changed.
func Render(objs []*unstructured.Unstructured, s *State) ([]string, error) {
	var notes []string
	for _, u := range objs {
		var changed bool
		var err error
		switch {
		case IsGateway(u):
			changed, err = renderGateway(u, s)
		case IsAuthPolicy(u):
			changed, err = renderPolicy(u, s.ExcludesChallenge())
		case IsAuthserviceParams(u):
			changed, err = renderSkipAuth(u, s.ExcludesChallenge())
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("render %s %s/%s for TLS: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
		if changed {
			notes = append(notes, fmt.Sprintf("%s %s/%s: %s", u.GetKind(), u.GetNamespace(), u.GetName(), describe(u, s)))
		}
	}
	return notes, nil
}

func describe(u *unstructured.Unstructured, s *State) string {
	switch {
	case IsGateway(u) && s != nil:
		return fmt.Sprintf("HTTPS server for %s from Secret %s/%s (recorded by `tls`)", strings.Join(Hosts(s), ", "), IstioNamespace, s.SecretName)
	case s.ExcludesChallenge():
		return ChallengePrefix + " passes without login (ACME HTTP-01, recorded by `tls`)"
	}
	return "TLS additions removed"
}

// Hosts are the HTTPS server's hosts for s.
func Hosts(s *State) []string {
	h := []string{s.Domain}
	if s.Wildcard {
		h = append(h, "*."+s.Domain)
	}
	return h
}

// HTTPSServer is the Gateway server that serves s.
func HTTPSServer(s *State) map[string]any {
	hosts := []any{}
	for _, h := range Hosts(s) {
		hosts = append(hosts, h)
	}
	return map[string]any{
		"port":  map[string]any{"number": int64(443), "name": httpsPortName, "protocol": "HTTPS"},
		"hosts": hosts,
		"tls":   map[string]any{"mode": "SIMPLE", "credentialName": s.SecretName},
	}
}

func renderGateway(u *unstructured.Unstructured, s *State) (bool, error) {
	servers, _, err := unstructured.NestedSlice(u.Object, "spec", "servers")
	if err != nil {
		return false, err
	}
	before := runtime.DeepCopyJSONValue(servers)
	var out []any
	for _, srv := range servers {
		m, ok := srv.(map[string]any)
		if !ok {
			return false, fmt.Errorf("spec.servers holds a %T", srv)
		}
		if isOurHTTPS(m) {
			continue
		}
		if protocol(m) == "HTTP" {
			setRedirect(m, s != nil && s.HTTPRedirect)
		}
		out = append(out, m)
	}
	if s != nil {
		out = append(out, HTTPSServer(s))
	}
	if err := unstructured.SetNestedSlice(u.Object, out, "spec", "servers"); err != nil {
		return false, err
	}
	return !equalJSON(before, out), nil
}

func isOurHTTPS(m map[string]any) bool {
	name, _, _ := unstructured.NestedString(m, "port", "name")
	return name == httpsPortName && protocol(m) == "HTTPS"
}

func protocol(m map[string]any) string {
	p, _, _ := unstructured.NestedString(m, "port", "protocol")
	return strings.ToUpper(p)
}

// setRedirect adds or removes tls.httpsRedirect on a plain HTTP server (the only tls field such
// a server may carry).
func setRedirect(m map[string]any, on bool) {
	if on {
		m["tls"] = map[string]any{"httpsRedirect": true}
		return
	}
	if t, ok := m["tls"].(map[string]any); ok && len(t) == 1 && t["httpsRedirect"] != nil {
		delete(m, "tls")
	}
}

// HasRedirect tells whether a Gateway's port-80 server redirects to HTTPS.
func HasRedirect(u *unstructured.Unstructured) bool {
	servers, _, _ := unstructured.NestedSlice(u.Object, "spec", "servers")
	for _, srv := range servers {
		m, _ := srv.(map[string]any)
		if r, _, _ := unstructured.NestedBool(m, "tls", "httpsRedirect"); r && protocol(m) == "HTTP" {
			return true
		}
	}
	return false
}

func renderPolicy(u *unstructured.Unstructured, exclude bool) (bool, error) {
	rules, _, err := unstructured.NestedSlice(u.Object, "spec", "rules")
	if err != nil {
		return false, err
	}
	changed := false
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		to, _ := rule["to"].([]any)
		for _, t := range to {
			op, _ := t.(map[string]any)["operation"].(map[string]any)
			if op == nil {
				continue
			}
			paths, _ := op["notPaths"].([]any)
			if paths == nil {
				continue // a rule that matches every path is not the allow-list
			}
			kept := slices.DeleteFunc(slices.Clone(paths), func(p any) bool { return p == challengeNotPath })
			if exclude {
				kept = append(kept, challengeNotPath)
			}
			if !equalJSON(paths, kept) {
				op["notPaths"] = kept
				changed = true
			}
		}
	}
	if changed {
		return true, unstructured.SetNestedSlice(u.Object, rules, "spec", "rules")
	}
	return false, nil
}

// PolicyExcludesChallenge tells whether every allow-list rule of an AuthorizationPolicy lets the
// challenge path through.
func PolicyExcludesChallenge(u *unstructured.Unstructured) bool {
	rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
	found := false
	for _, r := range rules {
		to, _ := r.(map[string]any)["to"].([]any)
		for _, t := range to {
			op, _ := t.(map[string]any)["operation"].(map[string]any)
			paths, ok := op["notPaths"].([]any)
			if !ok {
				continue
			}
			if !slices.Contains(paths, any(challengeNotPath)) {
				return false
			}
			found = true
		}
	}
	return found
}

func renderSkipAuth(u *unstructured.Unstructured, exclude bool) (bool, error) {
	v, _, err := unstructured.NestedString(u.Object, "data", skipAuthKey)
	if err != nil {
		return false, err
	}
	next := SkipAuth(v, exclude)
	if next == v {
		return false, nil
	}
	return true, unstructured.SetNestedField(u.Object, next, "data", skipAuthKey)
}

// SkipAuth returns authservice's SKIP_AUTH_URI with the challenge prefix added or removed.
func SkipAuth(v string, exclude bool) string {
	fields := slices.DeleteFunc(strings.Fields(v), func(p string) bool { return p == ChallengePrefix })
	if exclude {
		fields = append(fields, ChallengePrefix)
	}
	return strings.Join(fields, " ")
}

// SkipAuthExcludesChallenge tells whether the authservice ConfigMap lets the challenge through.
func SkipAuthExcludesChallenge(u *unstructured.Unstructured) bool {
	v, _, _ := unstructured.NestedString(u.Object, "data", skipAuthKey)
	return slices.Contains(strings.Fields(v), ChallengePrefix)
}

func equalJSON(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }

func runtimeToMap(obj any) (map[string]any, error) {
	return runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
}
