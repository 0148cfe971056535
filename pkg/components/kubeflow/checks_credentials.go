package kubeflow

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

// credentialFinding is what the probe keeps of one credential: where it is and whether it is
// the published value (never the value itself).
type credentialFinding struct {
	Ref, Key, What, Fix string
	Public              bool
	// Login marks dex's static user (a warning: --example-user keeps it on purpose).
	Login bool
}

// credentialsProbe reads the stores' Secrets and dex's static user hash by name (GET): Secret
// auth/dex-passwords (v1.9 and later) and ConfigMap auth/dex (v1.5), and which object store runs
// (its Deployment: minio, or SeaweedFS from v1.11) for the fix. Values are compared inside the
// probe; dex's hash is checked against the published password with bcrypt, as dex checks a login.
var credentialsProbe = checks.Probe{Name: "kubeflow-credentials", Run: readCredentials, Rules: []rbacv1.PolicyRule{
	access.Named("", []string{"secrets"}, []string{"mlpipeline-minio-artifact", "katib-mysql-secrets", "dex-passwords"}, "get"),
	access.Named("", []string{"configmaps"}, []string{"dex"}, "get"),
	access.Named("apps", []string{"deployments"}, []string{seaweedStore.Workload.Name, minioStore.Workload.Name}, "get"),
}}

func readCredentials(ctx context.Context, env checks.Env) (any, error) {
	var out []credentialFinding
	for _, s := range storeSecrets(liveStore(ctx, env.Client)) {
		sec, err := env.Client.CoreV1().Secrets(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get Secret %s: %w", s.Ref(), err)
		}
		for _, k := range s.Keys {
			out = append(out, credentialFinding{Ref: "Secret " + s.Ref(), Key: k.Key, What: s.What, Fix: "to change it, " + s.Rotate, Public: string(sec.Data[k.Key]) == k.Public})
		}
	}
	loginFix := "re-run `kubectl flexigrobots kubeflow` without --example-user: it generates a password (Secret " + DexUserNamespace + "/" + DexUserSecret + ") and restarts dex"
	published := func(hash string) bool {
		return hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(PublicDexPassword)) == nil
	}
	sec, err := env.Client.CoreV1().Secrets("auth").Get(ctx, "dex-passwords", metav1.GetOptions{})
	switch {
	case err == nil:
		out = append(out, credentialFinding{Ref: "Secret auth/dex-passwords", Key: "DEX_USER_PASSWORD", What: "dex's static user", Fix: loginFix, Login: true, Public: published(string(sec.Data["DEX_USER_PASSWORD"]))})
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("get Secret auth/dex-passwords: %w", err)
	}
	cm, err := env.Client.CoreV1().ConfigMaps("auth").Get(ctx, "dex", metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get ConfigMap auth/dex: %w", err)
	}
	if err == nil {
		u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"config.yaml": cm.Data["config.yaml"]}}}
		if d := parseDexConfig(u); d != nil {
			for _, user := range d.users {
				if h, _ := user["hash"].(string); h != "" {
					out = append(out, credentialFinding{Ref: "ConfigMap auth/dex", Key: "staticPasswords hash", What: "dex's static user", Fix: loginFix, Login: true, Public: published(h)})
				}
			}
		}
	}
	return out, nil
}

func credentials(s *checks.Snapshot) []checks.Result {
	found, err := checks.ProbeAs[[]credentialFinding](s, credentialsProbe.Name)
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs get on Secrets kubeflow/mlpipeline-minio-artifact, kubeflow/katib-mysql-secrets, auth/dex-passwords and ConfigMap auth/dex")}
	}
	if len(found) == 0 {
		return []checks.Result{checks.NotInstalled("none of Kubeflow's credentials (pipelines object store, Katib's MySQL, dex's static user) found", install)}
	}
	var rs []checks.Result
	for _, f := range found {
		switch {
		case f.Public && f.Login:
			rs = append(rs, checks.Warning(fmt.Sprintf("%s (%s): %s logs in with Kubeflow's published password", f.Ref, f.Key, f.What), f.Fix))
		case f.Public:
			rs = append(rs, checks.Fail(fmt.Sprintf("%s key %s: %s uses the published credentials", f.Ref, f.Key, f.What), f.Fix))
		default:
			rs = append(rs, checks.Pass("%s key %s (%s) is not the published value", f.Ref, f.Key, f.What))
		}
	}
	return rs
}
