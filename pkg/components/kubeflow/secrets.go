package kubeflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
)

// Credentials are the Secrets converge owns, outside the build: the OIDC client secret (one
// generated value shared by dex and the auth proxy, replacing Kubeflow's public default) and the
// GitHub client secret. Values are read from the live cluster first, so a re-run changes nothing.
type Credentials struct {
	Objects []*unstructured.Unstructured
	// Reused tells whether the OIDC client secret was already in the cluster.
	Reused bool
}

// LiveClientSecret returns the OIDC client secret dex uses now ("" when absent).
func LiveClientSecret(ctx context.Context, c kubernetes.Interface, p Profile) (string, error) {
	return liveKey(ctx, c, p.Dex.Namespace, p.Dex.Generator, p.Dex.SecretKey)
}

func liveKey(ctx context.Context, c kubernetes.Interface, ns, name, key string) (string, error) {
	s, err := c.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	return string(s.Data[key]), nil
}

// NewCredentials builds the Secrets, reusing live values that are not the public defaults. With
// a nil client (client dry run without a cluster) new values are generated.
func NewCredentials(ctx context.Context, c kubernetes.Interface, p Profile, gh *GitHub) (*Credentials, error) {
	out := &Credentials{}
	secret, cookie := "", ""
	if c != nil {
		var err error
		if secret, err = LiveClientSecret(ctx, c, p); err != nil {
			return nil, err
		}
		if p.Proxy.CookieKey != "" {
			if cookie, err = liveKey(ctx, c, p.Proxy.Namespace, p.Proxy.Generator, p.Proxy.CookieKey); err != nil {
				return nil, err
			}
		}
	}
	out.Reused = secret != "" && secret != PublicClientSecret
	if !out.Reused {
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
	return out, nil
}

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
