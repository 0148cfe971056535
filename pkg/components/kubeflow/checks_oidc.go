package kubeflow

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

// oidcSecretRefs are the Secrets that hold the OIDC client secret, by Kubeflow version, and the
// key in each: v1.10 dex and oauth2-proxy, v1.5 dex and authservice.
var oidcSecretRefs = []struct{ namespace, name, key string }{
	{"auth", "dex-oidc-client", "OIDC_CLIENT_SECRET"},
	{"oauth2-proxy", "oauth2-proxy", "client-secret"},
	{"istio-system", "oidc-authservice-client", "CLIENT_SECRET"},
}

// oidcFinding is what the probe keeps of one Secret: whether its key holds the public default
// (never the value itself).
type oidcFinding struct {
	Ref, Key string
	Public   bool
}

// oidcSecretsProbe reads the OIDC client Secrets by name (GET), never a LIST of Secrets: where
// the stock manifests name oauth2-proxy's Secret with a hash suffix (no oauth2-proxy/
// oauth2-proxy), it reads the name from the oauth2-proxy Deployment's secretKeyRef. Values are
// compared inside the probe.
var oidcSecretsProbe = checks.Probe{Name: "kubeflow-oidc-secrets", Run: readOIDCSecrets, Rules: []rbacv1.PolicyRule{
	access.Rule("", []string{"secrets"}, "get"), // by name: the refs above, or the Deployment's
	access.Named("apps", []string{"deployments"}, []string{"oauth2-proxy"}, "get"),
}}

func readOIDCSecrets(ctx context.Context, env checks.Env) (any, error) {
	var out []oidcFinding
	proxyFound := false
	get := func(ns, name, key string) (bool, error) {
		sec, err := env.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("get Secret %s/%s: %w", ns, name, err)
		}
		out = append(out, oidcFinding{Ref: ns + "/" + name, Key: key, Public: string(sec.Data[key]) == publicClientSecret})
		return true, nil
	}
	for _, r := range oidcSecretRefs {
		found, err := get(r.namespace, r.name, r.key)
		if err != nil {
			return nil, err
		}
		proxyFound = proxyFound || (found && r.namespace == "oauth2-proxy")
	}
	if proxyFound {
		return out, nil
	}
	dep, err := env.Client.AppsV1().Deployments("oauth2-proxy").Get(ctx, "oauth2-proxy", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get Deployment oauth2-proxy/oauth2-proxy: %w", err)
	}
	for _, c := range dep.Spec.Template.Spec.Containers {
		for _, e := range c.Env {
			if ref := e.ValueFrom; e.Name == "OAUTH2_PROXY_CLIENT_SECRET" && ref != nil && ref.SecretKeyRef != nil {
				if _, err := get("oauth2-proxy", ref.SecretKeyRef.Name, ref.SecretKeyRef.Key); err != nil {
					return nil, err
				}
				return out, nil
			}
		}
	}
	return out, nil
}

func oidcSecret(s *checks.Snapshot) []checks.Result {
	found, err := checks.ProbeAs[[]oidcFinding](s, oidcSecretsProbe.Name)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs get on Secrets auth/dex-oidc-client and oauth2-proxy/oauth2-proxy (v1.5: istio-system/oidc-authservice-client)")}
	}
	var rs []checks.Result
	for _, f := range found {
		if f.Public {
			rs = append(rs, checks.Fail(fmt.Sprintf("Secret %s key %s is Kubeflow's published OIDC client secret", f.Ref, f.Key),
				"re-run `kubectl flexigrobots kubeflow`: it generates one shared by dex and the auth proxy"))
			continue
		}
		rs = append(rs, checks.Pass("Secret %s key %s is not the public default", f.Ref, f.Key))
	}
	if len(rs) == 0 {
		return []checks.Result{checks.Fail("no OIDC client Secret of dex or the auth proxy", install)}
	}
	return rs
}
