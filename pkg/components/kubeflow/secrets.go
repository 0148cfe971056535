package kubeflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Credentials are the Secrets converge owns, outside the build: the OIDC client secret (one
// generated value shared by dex and the auth proxy, replacing Kubeflow's public default), the
// GitHub client secret, the stores' credentials (StoreSecret) and dex's static user
// (dexCredentials). Values are read from the live cluster first, so a re-run changes nothing.
type Credentials struct {
	Objects []*unstructured.Unstructured
	// Reused tells whether the OIDC client secret was already in the cluster.
	Reused bool
	// Notes and Warnings say what was generated and what still holds published values.
	Notes, Warnings []string
	// Restart lists the workloads whose credential this run changes under them: they read it
	// at start-up only.
	Restart []kube.Target
}

// LiveClientSecret returns the OIDC client secret dex uses now ("" when absent).
func LiveClientSecret(ctx context.Context, c kubernetes.Interface, p Profile) (string, error) {
	return liveKey(ctx, c, p.Dex.Namespace, p.Dex.Generator, p.Dex.SecretKey)
}

func liveKey(ctx context.Context, c kubernetes.Interface, ns, name, key string) (string, error) {
	data, err := liveData(ctx, c, ns, name)
	return data[key], err
}

// NewCredentials builds the Secrets, reusing live values that are not the public defaults. With
// a nil client (client dry run without a cluster) new values are generated. On v1.5 it writes
// the static user's hash into the build's dex ConfigMap (see dexCredentials).
func NewCredentials(ctx context.Context, c kubernetes.Interface, b *Built, gh *GitHub) (*Credentials, error) {
	p := b.Profile
	out := &Credentials{}
	secret, err := LiveClientSecret(ctx, c, p)
	if err != nil {
		return nil, err
	}
	cookie := ""
	if p.Proxy.CookieKey != "" {
		if cookie, err = liveKey(ctx, c, p.Proxy.Namespace, p.Proxy.Generator, p.Proxy.CookieKey); err != nil {
			return nil, err
		}
	}
	out.Reused = secret != "" && secret != PublicClientSecret
	if !out.Reused {
		if secret != "" { // the public one runs now: dex and the proxy read it at start-up
			out.Restart = append(out.Restart, dexWorkload, p.ProxyWorkload)
		}
		secret = randomHex(24)
	}
	if cookie == "" || cookie == PublicCookieSecret {
		cookie = randomHex(16) // 32 characters: an AES-256 key for oauth2-proxy
	}
	for _, cs := range []ClientSecret{p.Dex, p.Proxy} {
		data := map[string]string{cs.IDKey: p.ClientID, cs.SecretKey: secret}
		if cs.CookieKey != "" {
			data[cs.CookieKey] = cookie
		}
		out.Objects = append(out.Objects, secretObject(cs.Namespace, cs.Generator, data))
	}
	if gh != nil {
		out.Objects = append(out.Objects, secretObject("auth", GitHubSecretName, map[string]string{GitHubSecretKey: string(gh.ClientSecret)}))
	}
	stores, notes, warnings, err := storeCredentials(ctx, c, b.Owned)
	if err != nil {
		return nil, err
	}
	out.Objects = append(out.Objects, stores...)
	out.Notes, out.Warnings = notes, warnings
	dex, dexNotes, restartDex, err := dexCredentials(ctx, c, b)
	if err != nil {
		return nil, err
	}
	out.Objects = append(out.Objects, dex...)
	out.Notes = append(out.Notes, dexNotes...)
	if restartDex && len(out.Restart) == 0 {
		out.Restart = append(out.Restart, dexWorkload)
	}
	if w := exampleUserWarning(b); w != "" {
		out.Warnings = append(out.Warnings, w)
	}
	return out, nil
}

// ConvergeSecrets names the Secrets converge creates for b (namespace/name), none of which
// `kubeflow render` prints.
func ConvergeSecrets(b *Built, gh *GitHub) []string {
	p := b.Profile
	out := []string{p.Dex.Namespace + "/" + p.Dex.Generator, p.Proxy.Namespace + "/" + p.Proxy.Generator}
	if gh != nil {
		out = append(out, "auth/"+GitHubSecretName)
	}
	out = append(out, b.Owned...)
	if b.GeneratesDexUser() {
		out = append(out, DexUserNamespace+"/"+DexUserSecret)
	}
	return out
}

// find returns the first object of kind in namespace ns whose name starts with namePrefix.
func find(objs []*unstructured.Unstructured, kind, ns, namePrefix string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetNamespace() == ns && strings.HasPrefix(o.GetName(), namePrefix) {
			return o
		}
	}
	return nil
}

// dexWorkload is dex's Deployment (every supported version).
var dexWorkload = kube.Target{GVR: kube.DeploymentsGVR, Namespace: "auth", Name: "dex"}

func secretObject(ns, name string, data map[string]string) *unstructured.Unstructured {
	enc := map[string]any{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"data":     enc,
	}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
