package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// viewerKubeconfig writes a kubeconfig for a ServiceAccount bound to the cluster's `view`
// ClusterRole, the identity a CI job that only verifies gets.
func viewerKubeconfig(t *testing.T, c *testbed.Cluster) string {
	t.Helper()
	return identityKubeconfig(t, c, "ci-viewer", "view")
}

// rbacKubeconfig writes a kubeconfig for a ServiceAccount bound to nothing but the ClusterRole
// `kubectl flexigrobots rbac SECTION...` prints (created as a user would, from its YAML).
func rbacKubeconfig(t *testing.T, c *testbed.Cluster, name string, sections ...string) string {
	t.Helper()
	r := runPlugin(t, c, append(append([]string{"rbac"}, sections...), "--name", name)...)
	if r.code != 0 {
		t.Fatalf("rbac %v: exit %d", sections, r.code)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict([]byte(r.stdout), &role); err != nil || role.Kind != "ClusterRole" || role.Name != name || len(role.Rules) == 0 {
		t.Fatalf("rbac printed no ClusterRole %s (%v):\n%s", name, err, r.stdout)
	}
	if _, err := c.Client.RbacV1().ClusterRoles().Create(context.Background(), &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return identityKubeconfig(t, c, name, name)
}

// identityKubeconfig writes a kubeconfig for ServiceAccount default/name bound to clusterRole:
// a token from the TokenRequest API in place of the admin's client certificate, same server and
// CA.
func identityKubeconfig(t *testing.T, c *testbed.Cluster, name, clusterRole string) string {
	t.Helper()
	ctx := context.Background()
	const ns = "default"
	if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-" + clusterRole},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}},
	}
	if _, err := c.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	exp := int64(3 * 3600) // the longest e2e test runs under 3 hours
	tok, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, name, &authv1.TokenRequest{Spec: authv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	user := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	user.ClientCertificate, user.ClientKey, user.ClientCertificateData, user.ClientKeyData = "", "", nil, nil
	user.Token = tok.Status.Token
	path := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// runPluginAs runs the plugin with another kubeconfig (an identity of identityKubeconfig).
func runPluginAs(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	out, errOut, code := runWithoutCluster(t, []string{"KUBECONFIG=" + kubeconfig}, args...)
	t.Logf("kubectl flexigrobots %v (as %s) -> exit %d\nstdout:\n%s\nstderr:\n%s", args, filepath.Base(kubeconfig), code, out, errOut)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// verifyReport parses verify -o json's stdout.
func verifyReport(t *testing.T, stdout, stderr string) verify.Report {
	t.Helper()
	var rep verify.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("verify -o json: %v\nstderr:\n%s", err, stderr)
	}
	return rep
}
