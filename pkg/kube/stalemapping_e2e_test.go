package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const staleGadget = `
apiVersion: stale.flexigrobots.io/v1
kind: Gadget
metadata: {name: one, namespace: default}
spec: {size: 1}
`

// TestApplyForgetsAStaleMapping (apiserver-only beds, 1.21 and 1.37): clients whose RESTMapper
// still maps a kind the server no longer serves (its CRD deleted; for kubectl's disk cache, also
// a cluster rebuilt at the same address) do not fail on the server's 404: the engine forgets the
// mapping and maps the kind anew. A client dry run then shows the object as created (as when the
// kind was never known); a real apply fails saying the kind does not map, not with the 404.
func TestApplyForgetsAStaleMapping(t *testing.T) {
	for _, v := range []string{testbed.V121, testbed.V137} {
		t.Run(v, func(t *testing.T) {
			c := testbed.SharedAPIServer(t, testbed.Options{Version: v})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			setup, dryClients, realClients := clientsFor(t, c), clientsFor(t, c), clientsFor(t, c)
			if _, err := (&kube.Applier{Clients: setup}).Apply(ctx, decode(t, gadgetCRD("stale.flexigrobots.io")+"---\n"+staleGadget)); err != nil {
				t.Fatal(err)
			}
			for _, cl := range []*kube.Clients{dryClients, realClients} { // both mappers learn the kind
				if _, err := cl.Mapper.RESTMapping(schema.GroupKind{Group: "stale.flexigrobots.io", Kind: "Gadget"}, "v1"); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() { deleteCRD(t, c, "gadgets.stale.flexigrobots.io", "stale.flexigrobots.io/v1") })
			deleteCRD(t, c, "gadgets.stale.flexigrobots.io", "stale.flexigrobots.io/v1")

			rep, err := (&kube.Applier{Clients: dryClients, DryRun: core.DryRunClient}).Apply(ctx, decode(t, staleGadget))
			if err != nil {
				t.Fatalf("client dry run with a stale mapping: %v", err)
			}
			if got := actions(rep); got[output.Created] != 1 {
				t.Fatalf("client dry run with a stale mapping: %+v, want the Gadget shown as created", rep.Results)
			}

			short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
			defer cancelShort()
			_, err = (&kube.Applier{Clients: realClients}).Apply(short, decode(t, staleGadget))
			if err == nil || !strings.Contains(err.Error(), `no matches for kind "Gadget"`) {
				t.Fatalf("real apply with a stale mapping: want the kind's no-match error, got %v", err)
			}
		})
	}
}

// deleteCRD deletes the CRD name (if present) and waits until the server no longer serves
// groupVersion (the CRD's only one).
func deleteCRD(t *testing.T, c *testbed.Cluster, name, groupVersion string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	crds := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if err := crds.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	gone := func(ctx context.Context) (bool, error) {
		_, err := c.Client.Discovery().ServerResourcesForGroupVersion(groupVersion)
		return apierrors.IsNotFound(err), nil
	}
	if err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, gone); err != nil {
		t.Fatalf("%s still served after its CRD was deleted: %v", groupVersion, err)
	}
}
