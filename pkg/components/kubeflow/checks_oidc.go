package kubeflow

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// oidcSecretsProbe reads the OIDC client Secrets by name (GET), never a LIST of Secrets: only
// where the stock manifests name oauth2-proxy's Secret with a hash suffix (no oauth2-proxy/
// oauth2-proxy), it lists that one namespace's Secrets. Values are compared inside the probe.
var oidcSecretsProbe = checks.Probe{Name: "kubeflow-oidc-secrets", Run: readOIDCSecrets}

func readOIDCSecrets(ctx context.Context, env checks.Env) (any, error) {
	var out []oidcFinding
	proxyFound := false
	for _, r := range oidcSecretRefs {
		sec, err := env.Client.CoreV1().Secrets(r.namespace).Get(ctx, r.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get Secret %s/%s: %w", r.namespace, r.name, err)
		}
		proxyFound = proxyFound || r.namespace == "oauth2-proxy"
		out = append(out, oidcFinding{Ref: r.namespace + "/" + r.name, Key: r.key, Public: string(sec.Data[r.key]) == publicClientSecret})
	}
	if !proxyFound {
		list, err := env.Client.CoreV1().Secrets("oauth2-proxy").List(ctx, metav1.ListOptions{})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err) {
			return nil, fmt.Errorf("list Secrets in oauth2-proxy: %w", err)
		}
		if err == nil {
			for _, sec := range list.Items {
				if strings.HasPrefix(sec.Name, "oauth2-proxy-") {
					out = append(out, oidcFinding{Ref: "oauth2-proxy/" + sec.Name, Key: "client-secret", Public: string(sec.Data["client-secret"]) == publicClientSecret})
				}
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
