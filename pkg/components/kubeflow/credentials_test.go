package kubeflow

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"golang.org/x/crypto/bcrypt"
)

// upstreamDexHash is the bcrypt hash of the published example password both versions ship.
const upstreamDexHash = "$2y$12$4K/VkmDd1q1Orb3xAt82zu8gk7Ad6ReFR4LCP9UeYE90NLiN9Df72"

func buildFixture(t *testing.T, v string, e Edits) *Built {
	t.Helper()
	p, _ := ProfileFor(v)
	b, err := Build(context.Background(), p, fixtureSource(t, p), e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// secretData decodes one key of a Secret object converge would apply.
func secretData(t *testing.T, objs []*unstructured.Unstructured, ns, name, key string) string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Secret" && o.GetNamespace() == ns && o.GetName() == name {
			enc, _, _ := unstructured.NestedString(o.Object, "data", key)
			dec, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("Secret %s/%s key %s: %v", ns, name, key, err)
			}
			return string(dec)
		}
	}
	return ""
}

// staticHash returns the hash dex checks the static user's password against: v1.10's from
// Secret dex-passwords, v1.5's from the dex ConfigMap.
func staticHash(t *testing.T, b *Built, objs []*unstructured.Unstructured) string {
	t.Helper()
	if b.Profile.DexHash.Name != "" {
		return secretData(t, objs, b.Profile.DexHash.Namespace, b.Profile.DexHash.Name, b.Profile.DexHash.Key)
	}
	d := parseDexConfig(find(b.Objects, "ConfigMap", "auth", "dex"))
	if d == nil || len(d.users) != 1 {
		t.Fatal("no static user in the dex ConfigMap")
	}
	h, _ := d.users[0]["hash"].(string)
	return h
}

// TestGeneratedCredentials builds v1.5 and v1.10 with the static user on and checks that no
// published credential is left: the build holds none of the store Secrets (nor v1.10's hash;
// checkProfile checks every release's build for that), converge generates them, dex's hash
// matches the password kept for the user, and a second pass over the resulting cluster state
// changes nothing.
func TestGeneratedCredentials(t *testing.T) {
	for _, v := range []string{"v1.5.0", "v1.10.2"} {
		t.Run(v, func(t *testing.T) {
			b := buildFixture(t, v, Edits{IngressServiceType: "LoadBalancer"})
			var out bytes.Buffer
			if err := WriteYAML(&out, b.Objects); err != nil {
				t.Fatal(err)
			}
			for _, s := range storeSecrets(b.Profile.ObjectStore) {
				if find(b.Objects, "Secret", s.Namespace, s.Name) != nil || !b.owns(s.Ref()) {
					t.Fatalf("the build keeps Secret %s (owned: %v)", s.Ref(), b.Owned)
				}
			}
			if strings.Contains(out.String(), "minio123") {
				t.Fatal("the build holds minio's published secret key")
			}
			creds, err := NewCredentials(context.Background(), nil, b, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range storeSecrets(b.Profile.ObjectStore) {
				for _, k := range s.Keys {
					got := secretData(t, creds.Objects, s.Namespace, s.Name, k.Key)
					if got == k.Public || len(got) != 2*k.Bytes {
						t.Fatalf("Secret %s key %s = %d characters (published %v): want %d generated", s.Ref(), k.Key, len(got), got == k.Public, 2*k.Bytes)
					}
				}
			}
			password := secretData(t, creds.Objects, DexUserNamespace, DexUserSecret, "password")
			email := secretData(t, creds.Objects, DexUserNamespace, DexUserSecret, "email")
			if len(password) != 24 || email != "user@example.com" {
				t.Fatalf("Secret %s/%s: email %q, password of %d characters", DexUserNamespace, DexUserSecret, email, len(password))
			}
			hash := staticHash(t, b, creds.Objects)
			if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || bcrypt.CompareHashAndPassword([]byte(hash), []byte(PublicDexPassword)) == nil {
				t.Fatalf("dex's hash %q does not verify the generated password (or verifies the published one)", hash)
			}
			if len(creds.Warnings) != 0 || len(creds.Restart) != 0 {
				t.Fatalf("fresh install: warnings %v, restarts %v", creds.Warnings, creds.Restart)
			}

			// Second pass: the cluster holds what the first applied.
			live := fake.NewClientset(liveObjects(t, b, creds.Objects)...)
			b2 := buildFixture(t, v, Edits{IngressServiceType: "LoadBalancer"})
			again, err := NewCredentials(context.Background(), live, b2, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range creds.Objects {
				for k := range o.Object["data"].(map[string]any) {
					if secretData(t, again.Objects, o.GetNamespace(), o.GetName(), k) != secretData(t, creds.Objects, o.GetNamespace(), o.GetName(), k) {
						t.Errorf("second pass changed Secret %s/%s key %s", o.GetNamespace(), o.GetName(), k)
					}
				}
			}
			if staticHash(t, b2, again.Objects) != hash || len(again.Restart) != 0 {
				t.Fatalf("second pass changed dex's hash or restarts %v", again.Restart)
			}
		})
	}
}

// TestGitHubOnlyKeepsDexPasswords: without a static user dex-passwords still exists (dex reads
// it with envFrom), holds no published hash, and a second pass keeps it; no note names the
// password Secret of a static user that is not there.
func TestGitHubOnlyKeepsDexPasswords(t *testing.T) {
	e := Edits{GitHub: &GitHub{ClientID: "id", Org: "org", RedirectURI: "https://x/dex/callback", ClientSecret: []byte("s")}}
	b := buildFixture(t, "v1.10.2", e)
	creds, err := NewCredentials(context.Background(), nil, b, e.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	hash := secretData(t, creds.Objects, "auth", "dex-passwords", "DEX_USER_PASSWORD")
	if hash == "" || bcrypt.CompareHashAndPassword([]byte(hash), []byte(PublicDexPassword)) == nil {
		t.Fatalf("dex-passwords hash %q: want one of no published password", hash)
	}
	if secretData(t, creds.Objects, DexUserNamespace, DexUserSecret, "password") != "" || b.GeneratesDexUser() {
		t.Fatal("no static user: no password Secret expected")
	}
	for _, ed := range b.Edits {
		if strings.Contains(ed.What, DexUserSecret) {
			t.Errorf("the build's notes name Secret %s, which a build without a static user never makes: %q", DexUserSecret, ed.What)
		}
	}
	again, err := NewCredentials(context.Background(), fake.NewClientset(liveObjects(t, b, creds.Objects)...), b, e.GitHub)
	if err != nil {
		t.Fatal(err)
	}
	if secretData(t, again.Objects, "auth", "dex-passwords", "DEX_USER_PASSWORD") != hash || len(again.Restart) != 0 {
		t.Fatalf("second pass changed dex-passwords or restarts %v", again.Restart)
	}
}

// liveObjects turns what converge would apply into typed objects for a fake cluster: the
// credentials' Secrets and the build's dex ConfigMap.
func liveObjects(t *testing.T, b *Built, secrets []*unstructured.Unstructured) []runtime.Object {
	t.Helper()
	var out []runtime.Object
	for _, o := range append(append([]*unstructured.Unstructured{}, secrets...), find(b.Objects, "ConfigMap", "auth", "dex")) {
		var typed runtime.Object = &corev1.Secret{}
		if o.GetKind() == "ConfigMap" {
			typed = &corev1.ConfigMap{}
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, typed); err != nil {
			t.Fatal(err)
		}
		out = append(out, typed)
	}
	return out
}

// TestCredentialsOverAnInstallWithPublishedValues: stores keep their published values (with a
// warning naming them), the OIDC client secret and dex's hash are replaced and dex and the
// proxy restarted.
func TestCredentialsOverAnInstallWithPublishedValues(t *testing.T) {
	b := buildFixture(t, "v1.10.2", Edits{})
	p := b.Profile
	secret := func(ns, name string, data map[string]string) *corev1.Secret {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	live := fake.NewClientset(
		secret("kubeflow", "katib-mysql-secrets", map[string]string{"MYSQL_ROOT_PASSWORD": "test"}),
		secret("kubeflow", "mlpipeline-minio-artifact", map[string]string{"accesskey": "minio", "secretkey": "minio123"}),
		secret(p.Dex.Namespace, p.Dex.Generator, map[string]string{p.Dex.SecretKey: PublicClientSecret}),
		secret("auth", "dex-passwords", map[string]string{"DEX_USER_PASSWORD": upstreamDexHash}),
	)
	creds, err := NewCredentials(context.Background(), live, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := secretData(t, creds.Objects, "kubeflow", "katib-mysql-secrets", "MYSQL_ROOT_PASSWORD"); got != "test" {
		t.Fatalf("Katib's running MySQL password changed to %q: its data keeps the old one", got)
	}
	if got := secretData(t, creds.Objects, "kubeflow", "mlpipeline-minio-artifact", "secretkey"); got != "minio123" {
		t.Fatal("minio's running secret key changed")
	}
	joined := strings.Join(creds.Warnings, "\n")
	for _, want := range []string{"kubeflow/katib-mysql-secrets", "kubeflow/mlpipeline-minio-artifact", "ALTER USER"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "minio123") {
		t.Error("a warning prints a credential")
	}
	if h := staticHash(t, b, creds.Objects); h == upstreamDexHash {
		t.Fatal("dex keeps the published password's hash")
	}
	restarted := map[string]bool{}
	for _, w := range creds.Restart {
		restarted[w.Namespace+"/"+w.Name] = true
	}
	if !restarted["auth/dex"] || !restarted["oauth2-proxy/oauth2-proxy"] || len(creds.Restart) != 2 {
		t.Fatalf("restarts %v: want dex and oauth2-proxy (their client secret and dex's hash changed)", creds.Restart)
	}
}

// TestExampleUserKeepsThePublishedLogin: --example-user leaves dex as shipped and warns only on
// a LoadBalancer gateway.
func TestExampleUserKeepsThePublishedLogin(t *testing.T) {
	for _, typ := range []string{"LoadBalancer", "ClusterIP"} {
		b := buildFixture(t, "v1.10.2", Edits{ExampleUser: true, IngressServiceType: typ})
		if find(b.Objects, "Secret", "auth", "dex-passwords") == nil || b.owns("auth/dex-passwords") {
			t.Fatal("--example-user: the build must keep dex-passwords as shipped")
		}
		creds, err := NewCredentials(context.Background(), nil, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if secretData(t, creds.Objects, DexUserNamespace, DexUserSecret, "password") != "" {
			t.Fatal("--example-user: no generated password expected")
		}
		warned := strings.Contains(strings.Join(creds.Warnings, " "), "--example-user")
		if warned != (typ == "LoadBalancer") {
			t.Fatalf("gateway %s: warned %v", typ, warned)
		}
	}
}

// TestStoreWarningNamesTheRunningStore: over an install on the published keys, the warning says
// how to change them in the store that runs (SeaweedFS from v1.11, minio before), and so does
// KUBEFLOW-005's fix.
func TestStoreWarningNamesTheRunningStore(t *testing.T) {
	for _, st := range objectStores {
		published := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kubeflow", Name: "mlpipeline-minio-artifact"},
			Data: map[string][]byte{"accesskey": []byte("minio"), "secretkey": []byte("minio123")}}
		store := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: st.Workload.Namespace, Name: st.Workload.Name}}
		live := fake.NewClientset(published, store)
		_, _, warnings, err := storeCredentials(context.Background(), live, []string{"kubeflow/mlpipeline-minio-artifact"})
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "("+st.Name+")") || !strings.Contains(warnings[0], st.Rotate) {
			t.Fatalf("%s runs: warnings %q", st.Name, warnings)
		}
		found, err := readCredentials(context.Background(), checks.Env{Client: live})
		if err != nil {
			t.Fatal(err)
		}
		fixes := ""
		for _, f := range found.([]credentialFinding) {
			fixes += f.Fix
		}
		if !strings.Contains(fixes, st.Rotate) {
			t.Fatalf("%s runs: KUBEFLOW-005's fixes %q", st.Name, fixes)
		}
	}
	// No store yet (a first install) or none readable: both ways are given.
	if s := storeSecrets(ObjectStore{})[0]; !strings.Contains(s.Rotate, minioStore.Rotate) || !strings.Contains(s.Rotate, seaweedStore.Rotate) {
		t.Fatalf("unknown store: %q", s.Rotate)
	}
}
