package e2e

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// leaveStaleMetalLBKinds makes kubectl's discovery cache of bed c list MetalLB's kinds that the
// cluster does not serve, as when a cluster that had MetalLB was replaced by one at the same
// address (the cache is keyed by the address and kept 6 hours): stand-in CRDs of metallb.io are
// created, a plugin run (args) reads the discovery into the cache, then the CRDs are deleted
// until the server no longer serves the group.
func leaveStaleMetalLBKinds(t *testing.T, c *testbed.Cluster, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	kinds := map[string]string{"ipaddresspools": "IPAddressPool", "l2advertisements": "L2Advertisement"}
	for plural, kind := range kinds {
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": plural + ".metallb.io"},
			"spec": map[string]any{"group": "metallb.io", "scope": "Namespaced",
				"names": map[string]any{"plural": plural, "kind": kind},
				"versions": []any{map[string]any{"name": "v1beta1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}}}
		if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			t.Fatalf("stand-in CRD %s.metallb.io: %v", plural, err)
		}
	}
	served := func(ctx context.Context) (bool, error) {
		l, err := c.Client.Discovery().ServerResourcesForGroupVersion("metallb.io/v1beta1")
		return err == nil && len(l.APIResources) >= len(kinds), nil
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, served); err != nil {
		t.Fatalf("the stand-in metallb.io kinds were never served: %v", err)
	}
	runPlugin(t, c, args...) // reads the discovery into the bed's cache; its outcome does not matter
	if cached, _ := filepath.Glob(filepath.Join(c.KubeCacheDir(), "discovery", "*", "metallb.io", "v1beta1", "serverresources.json")); len(cached) != 1 {
		t.Fatalf("kubectl's discovery cache of the bed does not list metallb.io/v1beta1: %v", cached)
	}
	for plural := range kinds {
		if err := crds.Delete(ctx, plural+".metallb.io", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	gone := func(ctx context.Context) (bool, error) {
		_, err := c.Client.Discovery().ServerResourcesForGroupVersion("metallb.io/v1beta1")
		return apierrors.IsNotFound(err), nil
	}
	if err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, gone); err != nil {
		t.Fatalf("metallb.io still served after its CRDs were deleted: %v", err)
	}
}
