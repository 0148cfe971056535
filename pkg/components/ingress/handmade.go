package ingress

import (
	"context"
	"fmt"

	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// KeepHandMadeHTTPS is for a platform built by hand before `tls` recorded any state: the
// runbook's HTTPS step (`kubectl apply` of a Gateway with an HTTPS server) left servers on the
// live Gateway that the build's Gateway lacks. Rendering the build without them would take HTTPS
// away (and, applied over the hand-made object, is an adoption conflict), so the build's Gateway
// in objs keeps the live HTTPS servers as they are, until `tls` renders its own. It returns a
// note when it kept some. A Gateway that is not there, or holds no HTTPS server, changes nothing.
func KeepHandMadeHTTPS(ctx context.Context, dyn dynamic.Interface, objs []*unstructured.Unstructured) (string, error) {
	for _, u := range objs {
		if !IsGateway(u) {
			continue
		}
		gvr := u.GroupVersionKind().GroupVersion().WithResource("gateways")
		live, err := dyn.Resource(gvr).Namespace(u.GetNamespace()).Get(ctx, u.GetName(), metav1.GetOptions{})
		if k8serrors.IsNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return keepHTTPS(u, live)
	}
	return "", nil
}

// keepHTTPS appends live's HTTPS servers to u's servers when u has none.
func keepHTTPS(u, live *unstructured.Unstructured) (string, error) {
	servers, _, err := unstructured.NestedSlice(u.Object, "spec", "servers")
	if err != nil {
		return "", err
	}
	for _, s := range servers {
		if m, ok := s.(map[string]any); ok && protocol(m) == "HTTPS" {
			return "", nil
		}
	}
	liveServers, _, err := unstructured.NestedSlice(live.Object, "spec", "servers")
	if err != nil {
		return "", err
	}
	kept := 0
	for _, s := range liveServers {
		if m, ok := s.(map[string]any); ok && protocol(m) == "HTTPS" {
			servers = append(servers, m)
			kept++
		}
	}
	if kept == 0 {
		return "", nil
	}
	if err := unstructured.SetNestedSlice(u.Object, servers, "spec", "servers"); err != nil {
		return "", err
	}
	return fmt.Sprintf("Gateway %s/%s: kept the %d HTTPS server(s) found on it (made without `tls`, which takes them over when it runs)", u.GetNamespace(), u.GetName(), kept), nil
}
