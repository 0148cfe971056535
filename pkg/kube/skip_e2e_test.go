package kube_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/transport"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// patchCounter counts PATCH requests (server-side applies) that may write, i.e. not dry runs.
type patchCounter struct {
	rt http.RoundTripper
	n  *atomic.Int32
}

func (p patchCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "" {
		p.n.Add(1)
	}
	return p.rt.RoundTrip(r)
}

// TestSkipUnchanged proves the no-op re-run path: a second apply sends no PATCH and moves no
// resourceVersion; an object someone else changed, and an object whose desired state changed,
// are applied again.
func TestSkipUnchanged(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	objs, err := kube.DecodeManifests([]byte(widgetCRD))
	if err != nil {
		t.Fatal(err)
	}
	var patches atomic.Int32
	run := func() *output.Report {
		t.Helper()
		cl := clientsFor(t, c)
		cfg := *cl.Config
		cfg.Wrap(transport.WrapperFunc(func(rt http.RoundTripper) http.RoundTripper { return patchCounter{rt, &patches} }))
		cl.Config = &cfg // the engine sends its applies through a REST client of this config
		if cl.Dynamic, err = dynamic.NewForConfig(&cfg); err != nil {
			t.Fatal(err)
		}
		rep, err := (&kube.Applier{Clients: cl, SkipUnchanged: true, ForceConflicts: true, Section: "skiptest"}).Apply(ctx, objs)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	run()
	// Writers of fields the engine does not apply (the CRD's status, the aggregated ClusterRole's
	// rules) do not make the next run re-apply anything.
	waitAggregated(t, c)
	cm, err := c.Client.CoreV1().ConfigMaps("widgets").Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patches.Store(0)
	rep := run()
	if rep.Changed() {
		t.Fatalf("third run changed something: %+v", rep.Results)
	}
	if n := patches.Load(); n != 0 {
		t.Fatalf("no-op re-run sent %d PATCH requests, want 0", n)
	}
	again, _ := c.Client.CoreV1().ConfigMaps("widgets").Get(ctx, "settings", metav1.GetOptions{})
	if again.ResourceVersion != cm.ResourceVersion {
		t.Fatalf("resourceVersion moved %s -> %s", cm.ResourceVersion, again.ResourceVersion)
	}
	// Someone edits the ConfigMap: the next run applies it and restores the desired data.
	again.Data["a"] = "edited"
	if _, err := c.Client.CoreV1().ConfigMaps("widgets").Update(ctx, again, metav1.UpdateOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	patches.Store(0)
	run()
	restored, _ := c.Client.CoreV1().ConfigMaps("widgets").Get(ctx, "settings", metav1.GetOptions{})
	if restored.Data["a"] != "1" || patches.Load() != 1 {
		t.Fatalf("edited ConfigMap: data %q after re-run with %d PATCHes, want \"1\" with 1", restored.Data["a"], patches.Load())
	}
	// The desired state changes: applied.
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			o.Object["data"] = map[string]any{"a": "2"}
		}
	}
	patches.Store(0)
	run()
	changed, _ := c.Client.CoreV1().ConfigMaps("widgets").Get(ctx, "settings", metav1.GetOptions{})
	if changed.Data["a"] != "2" || patches.Load() != 1 {
		t.Fatalf("changed desired state: data %q with %d PATCHes, want \"2\" with 1", changed.Data["a"], patches.Load())
	}
}
