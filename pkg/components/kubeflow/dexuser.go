package kubeflow

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"golang.org/x/crypto/bcrypt"
)

// Where converge keeps the login of dex's static user (the manifests' example user, owner of
// the example profile): its email, username and password, for the user to read with kubectl.
const (
	DexUserNamespace = "auth"
	DexUserSecret    = "dex-static-user"
	// PublicDexPassword is the example user's password every Kubeflow release publishes.
	PublicDexPassword = "12341234"
)

// SecretKeyRef names one key of a Secret.
type SecretKeyRef struct{ Namespace, Name, Key string }

// dexHashCost is bcrypt's cost for the generated password (dex accepts 10 to 16).
const dexHashCost = bcrypt.DefaultCost

// dexConfig is the part of dex's config.yaml the static user's credentials touch.
type dexConfig struct {
	cfg   map[string]any
	users []map[string]any
}

// parseDexConfig reads config.yaml of dex's ConfigMap (nil when absent or unparsable).
func parseDexConfig(cm *unstructured.Unstructured) *dexConfig {
	if cm == nil {
		return nil
	}
	raw, _, _ := unstructured.NestedString(cm.Object, "data", "config.yaml")
	cfg := map[string]any{}
	if yaml.Unmarshal([]byte(raw), &cfg) != nil {
		return nil
	}
	d := &dexConfig{cfg: cfg}
	if on, _ := cfg["enablePasswordDB"].(bool); !on {
		return d
	}
	list, _ := cfg["staticPasswords"].([]any)
	for _, u := range list {
		if m, ok := u.(map[string]any); ok {
			d.users = append(d.users, m)
		}
	}
	return d
}

// dexCredentials makes the static user's login: the password (kept from Secret
// auth/dex-static-user when there, generated otherwise), its bcrypt hash where dex reads it
// (v1.10: Secret dex-passwords; v1.5, whose dex v2.22 has no hashFromEnv: the `hash` of
// config.yaml in ConfigMap auth/dex, as upstream ships it; the hash, never the password) and
// the Secret the user reads the password from. A live hash that matches the password is kept,
// so a re-run changes nothing; restart says the live hash changed under a running dex.
func dexCredentials(ctx context.Context, c kubernetes.Interface, b *Built) (objs []*unstructured.Unstructured, notes []string, restart bool, err error) {
	p := b.Profile
	if b.ExampleUser {
		return nil, nil, false, nil
	}
	cmIndex := -1
	for i, o := range b.Objects {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == "auth" && o.GetName() == "dex" {
			cmIndex = i
		}
	}
	var d *dexConfig
	if cmIndex >= 0 {
		d = parseDexConfig(b.Objects[cmIndex])
	}
	hashOwned := p.DexHash.Name != "" && b.owns(p.DexHash.Namespace+"/"+p.DexHash.Name)
	staticUser := d != nil && len(d.users) > 0
	if !staticUser && !hashOwned {
		return nil, nil, false, nil
	}
	live, passwordFrom, err := liveSecret(ctx, c, DexUserNamespace, DexUserSecret)
	if err != nil {
		return nil, nil, false, err
	}
	password := live["password"]
	kept := password != "" && password != PublicDexPassword
	if !kept {
		password, passwordFrom = randomHex(12), ""
	}
	liveHash, hashFrom := "", ""
	if hashOwned {
		h, from, err := liveSecret(ctx, c, p.DexHash.Namespace, p.DexHash.Name)
		if err != nil {
			return nil, nil, false, err
		}
		liveHash, hashFrom = h[p.DexHash.Key], from
	} else if liveHash, hashFrom, err = liveConfigHash(ctx, c); err != nil {
		return nil, nil, false, err
	}
	hash := liveHash
	// Without a static user nobody logs in with the hash (dex-passwords only has to exist): any
	// live one but the published password's is kept.
	keep := hash != "" && bcryptMatches(hash, password, hashFrom, passwordFrom)
	if !staticUser {
		keep = hash != "" && !bcryptMatches(hash, PublicDexPassword, hashFrom, "published password")
	}
	if !keep {
		h, err := bcrypt.GenerateFromPassword([]byte(password), dexHashCost)
		if err != nil {
			return nil, nil, false, fmt.Errorf("dex static user: hash the password: %w", err)
		}
		hash = string(h)
	}
	restart = liveHash != "" && hash != liveHash
	if hashOwned {
		objs = append(objs, secretObject(p.DexHash.Namespace, p.DexHash.Name, map[string]string{p.DexHash.Key: hash}))
	} else {
		cm := b.Objects[cmIndex].DeepCopy()
		for _, u := range d.users {
			u["hash"] = hash
		}
		out, err := yaml.Marshal(d.cfg)
		if err != nil {
			return nil, nil, false, err
		}
		if err := unstructured.SetNestedField(cm.Object, string(out), "data", "config.yaml"); err != nil {
			return nil, nil, false, err
		}
		b.Objects[cmIndex] = cm
	}
	if !staticUser {
		// dex-passwords must exist (dex reads it with envFrom) though no static user logs in.
		return objs, nil, restart, nil
	}
	email, _ := d.users[0]["email"].(string)
	username, _ := d.users[0]["username"].(string)
	objs = append(objs, secretObject(DexUserNamespace, DexUserSecret, map[string]string{"email": email, "username": username, "password": password}))
	where := fmt.Sprintf("Secret %s/%s", p.DexHash.Namespace, p.DexHash.Name)
	if !hashOwned {
		where = "ConfigMap auth/dex (config.yaml, where upstream keeps it: v1.5's dex reads no hash from the environment)"
	}
	what := "password generated (not Kubeflow's published one)"
	if kept {
		what = "password kept (the one already in Secret " + DexUserNamespace + "/" + DexUserSecret + ")"
	}
	notes = append(notes, fmt.Sprintf("dex static user %s: %s, its bcrypt hash in %s; read it with: kubectl get secret -n %s %s -o jsonpath='{.data.password}' | base64 -d",
		email, what, where, DexUserNamespace, DexUserSecret))
	return objs, notes, restart, nil
}

// GeneratesDexUser tells whether converge gives dex's static user a generated password (the
// build keeps the user and --example-user is not set).
func (b *Built) GeneratesDexUser() bool {
	d := parseDexConfig(find(b.Objects, "ConfigMap", "auth", "dex"))
	return d != nil && len(d.users) > 0 && !b.ExampleUser
}

// liveConfigHash returns the hash of the first static user in the live ConfigMap auth/dex, and
// the ConfigMap's identity (see objectStamp).
func liveConfigHash(ctx context.Context, c kubernetes.Interface) (hash, from string, err error) {
	if c == nil {
		return "", "", nil
	}
	cm, err := c.CoreV1().ConfigMaps("auth").Get(ctx, "dex", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("read ConfigMap auth/dex: %w", err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"config.yaml": cm.Data["config.yaml"]}}}
	if d := parseDexConfig(u); d != nil && len(d.users) > 0 {
		h, _ := d.users[0]["hash"].(string)
		return h, objectStamp(string(cm.UID), cm.ResourceVersion), nil
	}
	return "", "", nil
}

// getSecret reads a Secret by name (nil when it does not exist).
func getSecret(ctx context.Context, c kubernetes.Interface, ns, name string) (*corev1.Secret, error) {
	s, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	return s, nil
}

// exampleUserWarning warns when the example user keeps its published password on a gateway
// exposed as a LoadBalancer.
func exampleUserWarning(b *Built) string {
	if d := parseDexConfig(find(b.Objects, "ConfigMap", "auth", "dex")); !b.ExampleUser || d == nil || len(d.users) == 0 {
		return ""
	}
	for _, o := range b.Objects {
		if o.GetKind() == "Service" && o.GetNamespace() == "istio-system" && o.GetName() == "istio-ingressgateway" {
			if t, _, _ := unstructured.NestedString(o.Object, "spec", "type"); t == "LoadBalancer" {
				return "--example-user keeps dex's static user with Kubeflow's published password on a LoadBalancer gateway: anyone who reaches it can log in; drop --example-user for a generated password"
			}
		}
	}
	return ""
}
