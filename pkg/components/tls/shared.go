package tls

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// Flavors of Kubeflow's ingress authentication.
const (
	// Authservice (Kubeflow v1.5): EnvoyFilter authn-filter sends every request to authservice,
	// whose SKIP_AUTH_URI is the allow-list.
	Authservice = "authservice"
	// OAuth2Proxy (Kubeflow v1.10): two AuthorizationPolicies whose notPaths are the allow-list.
	OAuth2Proxy = "oauth2-proxy"
)

// Shared is what `tls` writes on objects that `kubeflow` applies too.
type Shared struct {
	// Flavor is Authservice or OAuth2Proxy.
	Flavor string
	// Objects are what `kubeflow` last applied of the Gateway and the allow-list objects (our
	// field manager's part of each, as server-side apply recorded it), ready for ingress.Render.
	Objects []*unstructured.Unstructured
}

type sharedRef struct {
	gvr       schema.GroupVersionResource
	kind      string
	namespace string
	name      string
}

// LoadShared reads the Gateway and the allow-list objects of the installed Kubeflow and keeps
// the configuration our field manager applied to each (managedfields.ExtractInto), so `tls`
// re-applies exactly what `kubeflow` applied plus its own change and never takes fields from
// anyone else. Kubeflow missing, or installed by another tool, is a usage error (exit 2).
func LoadShared(ctx context.Context, dyn dynamic.Interface) (*Shared, error) {
	gw := sharedRef{GatewaysGVR, "Gateway", ingress.GatewayNamespace, ingress.GatewayName}
	refs := []sharedRef{gw}
	sh := &Shared{}
	if _, err := get(ctx, dyn, sharedRef{AuthPoliciesGVR, "AuthorizationPolicy", ingress.IstioNamespace, ingress.AuthPolicies[0]}); err == nil {
		sh.Flavor = OAuth2Proxy
		for _, n := range ingress.AuthPolicies {
			refs = append(refs, sharedRef{AuthPoliciesGVR, "AuthorizationPolicy", ingress.IstioNamespace, n})
		}
	} else if _, err := get(ctx, dyn, sharedRef{ConfigMapsGVR, "ConfigMap", ingress.IstioNamespace, ingress.AuthserviceParams}); err == nil {
		sh.Flavor = Authservice
		refs = append(refs, sharedRef{ConfigMapsGVR, "ConfigMap", ingress.IstioNamespace, ingress.AuthserviceParams})
	} else if !apierrors.IsNotFound(err) && !isNotServed(err) {
		return nil, err
	}
	for _, r := range refs {
		live, err := get(ctx, dyn, r)
		if apierrors.IsNotFound(err) || isNotServed(err) {
			return nil, core.UsageErrorf("Kubeflow is not installed here (no %s %s/%s): run `kubectl flexigrobots kubeflow` first", r.kind, r.namespace, r.name)
		}
		if err != nil {
			return nil, err
		}
		applied, err := ourPart(live)
		if err != nil {
			return nil, err
		}
		sh.Objects = append(sh.Objects, applied)
	}
	if sh.Flavor == "" {
		return nil, core.UsageErrorf("Kubeflow's ingress authentication was not found (neither AuthorizationPolicy %s/%s nor ConfigMap %s/%s): run `kubectl flexigrobots kubeflow` first", ingress.IstioNamespace, ingress.AuthPolicies[0], ingress.IstioNamespace, ingress.AuthserviceParams)
	}
	return sh, nil
}

// ourPart is the configuration our field manager applied to live.
func ourPart(live *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	out := &unstructured.Unstructured{}
	if err := managedfields.ExtractInto(live, typed.DeducedParseableType, kube.FieldManager, out, ""); err != nil {
		return nil, fmt.Errorf("read what `kubeflow` applied to %s: %w", kube.Ref(live), err)
	}
	if len(out.Object) <= 2 { // apiVersion and kind only: our manager applied nothing here
		return nil, core.UsageErrorf("%s was not applied by `kubectl flexigrobots kubeflow` (another tool owns it): run `kubectl flexigrobots kubeflow` once so both commands render it from the same source", kube.Ref(live))
	}
	out.SetAPIVersion(live.GetAPIVersion())
	out.SetKind(live.GetKind())
	out.SetName(live.GetName())
	out.SetNamespace(live.GetNamespace())
	return out, nil
}

func get(ctx context.Context, dyn dynamic.Interface, r sharedRef) (*unstructured.Unstructured, error) {
	return dyn.Resource(r.gvr).Namespace(r.namespace).Get(ctx, r.name, metav1.GetOptions{})
}

// isNotServed tells whether err says the resource type is unknown to the server (CRD absent).
func isNotServed(err error) bool {
	if st, ok := err.(apierrors.APIStatus); ok {
		return st.Status().Code == 404 && st.Status().Details == nil
	}
	return false
}
