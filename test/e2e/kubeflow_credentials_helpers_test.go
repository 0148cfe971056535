package e2e

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"golang.org/x/crypto/bcrypt"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// publishedCredentials are the values Kubeflow's manifests ship, by Secret and key.
var publishedCredentials = []struct{ ns, name, key, value string }{
	{"kubeflow", "mlpipeline-minio-artifact", "accesskey", "minio"},
	{"kubeflow", "mlpipeline-minio-artifact", "secretkey", "minio123"},
	{"kubeflow", "katib-mysql-secrets", "MYSQL_ROOT_PASSWORD", "test"},
}

// assertNoPublishedCredentials checks the live cluster holds none of the published credentials
// (the store Secrets, dex's static user) and that no generated value reached the runs' output.
// With staticUser, dex's live hash must verify the password kept in Secret auth/dex-static-user
// the way dex checks a login (bcrypt), and not the published one.
func assertNoPublishedCredentials(t *testing.T, c *testbed.Cluster, p kubeflow.Profile, staticUser bool, outputs ...result) {
	t.Helper()
	ctx := context.Background()
	printed := ""
	for _, r := range outputs {
		printed += r.stdout + r.stderr
	}
	var generated []string
	for _, pc := range publishedCredentials {
		s, err := c.Client.CoreV1().Secrets(pc.ns).Get(ctx, pc.name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret %s/%s: %v", pc.ns, pc.name, err)
		}
		v := string(s.Data[pc.key])
		if v == "" || v == pc.value {
			t.Errorf("Secret %s/%s key %s holds the published value or none", pc.ns, pc.name, pc.key)
		}
		generated = append(generated, v)
	}
	hash := ""
	if p.DexHash.Name != "" {
		s, err := c.Client.CoreV1().Secrets(p.DexHash.Namespace).Get(ctx, p.DexHash.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret %s/%s (dex reads it with envFrom): %v", p.DexHash.Namespace, p.DexHash.Name, err)
		}
		hash = string(s.Data[p.DexHash.Key])
	} else {
		cm, err := c.Client.CoreV1().ConfigMaps("auth").Get(ctx, "dex", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var cfg struct {
			StaticPasswords []struct{ Email, Hash string } `json:"staticPasswords"`
		}
		if err := yaml.Unmarshal([]byte(cm.Data["config.yaml"]), &cfg); err != nil {
			t.Fatal(err)
		}
		if len(cfg.StaticPasswords) > 0 {
			hash = cfg.StaticPasswords[0].Hash
		}
	}
	if hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(kubeflow.PublicDexPassword)) == nil {
		t.Error("dex's static user still logs in with the published password")
	}
	user, err := c.Client.CoreV1().Secrets(kubeflow.DexUserNamespace).Get(ctx, kubeflow.DexUserSecret, metav1.GetOptions{})
	if !staticUser {
		if err == nil {
			t.Errorf("Secret %s/%s exists though dex has no static user", kubeflow.DexUserNamespace, kubeflow.DexUserSecret)
		}
	} else {
		if err != nil {
			t.Fatalf("Secret %s/%s: %v", kubeflow.DexUserNamespace, kubeflow.DexUserSecret, err)
		}
		password := string(user.Data["password"])
		if hash == "" || bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
			t.Errorf("dex's hash does not verify the password in Secret %s/%s", kubeflow.DexUserNamespace, kubeflow.DexUserSecret)
		}
		if string(user.Data["email"]) != "user@example.com" {
			t.Errorf("static user email %q", user.Data["email"])
		}
		generated = append(generated, password)
		if !strings.Contains(printed, "kubectl get secret -n "+kubeflow.DexUserNamespace+" "+kubeflow.DexUserSecret) {
			t.Error("the run does not say where to read the static user's password")
		}
	}
	for _, v := range generated {
		if v != "" && strings.Contains(printed, v) {
			t.Errorf("a generated credential (%d characters) was printed", len(v))
		}
	}
}
