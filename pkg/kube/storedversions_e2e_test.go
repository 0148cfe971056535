package kube_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/transport"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// gadgetCRD is a CRD of kind Gadget (one version, v1, any content) in group.
func gadgetCRD(group string) string {
	return strings.ReplaceAll(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.GROUP
spec:
  group: GROUP
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
`, "GROUP", group)
}

// crdReads counts the reads of one CustomResourceDefinition by name.
type crdReads struct {
	rt http.RoundTripper
	n  *atomic.Int32
}

func (c crdReads) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/customresourcedefinitions/") {
		c.n.Add(1)
	}
	return c.rt.RoundTrip(r)
}

// TestStoredVersionsSkipsWhatTheRecordHolds: after an ApplySet apply of a CRD, the stored-version
// preflight of the same CRD reads nothing (the record's hash is of the CRD as the apply sent it,
// member label included); a CRD that changed is read.
func TestStoredVersionsSkipsWhatTheRecordHolds(t *testing.T) {
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs, err := kube.DecodeManifests([]byte(gadgetCRD("storedversions.flexigrobots.io")))
	if err != nil {
		t.Fatal(err)
	}
	const section = "storedversionstest"
	cl := clientsFor(t, c)
	if _, err := (&kube.Applier{Clients: cl, Section: section, SkipUnchanged: true, ApplySet: true}).Apply(ctx, objs); err != nil {
		t.Fatal(err)
	}
	defer func() {
		a := &kube.Applier{Clients: clientsFor(t, c), Section: section, ApplySet: true}
		if _, err := a.Apply(ctx, nil); err != nil { // prunes the CRD: the shared bed is left as found
			t.Error(err)
		}
		_ = a.ForgetRecord(ctx)
	}()
	var reads atomic.Int32
	counted := clientsFor(t, c)
	cfg := *counted.Config
	cfg.Wrap(transport.WrapperFunc(func(rt http.RoundTripper) http.RoundTripper { return crdReads{rt, &reads} }))
	counted.Config = &cfg
	a := &kube.Applier{Clients: counted, Section: section, ApplySet: true}
	if dropped, err := a.DroppedStoredVersions(ctx, objs); err != nil || len(dropped) > 0 {
		t.Fatalf("unchanged CRD: %v, %v", dropped, err)
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("the CRD the record holds as sent was read %d times, want 0", n)
	}
	objs[0].SetAnnotations(map[string]string{"changed": "yes"})
	if _, err := a.DroppedStoredVersions(ctx, objs); err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("a changed CRD was read %d times, want 1", n)
	}
}
