package kube_test

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const keepSet = `
apiVersion: v1
kind: Namespace
metadata: {name: prune-keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: stays, namespace: prune-keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: holds-data, namespace: prune-keep}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dropped, namespace: prune-keep}
`

// TestPruneKeepMember: a member the objects dropped that KeepMember holds is reported kept (also
// by a server dry run) and left in place while the others go; every later run asks about it
// again (a re-run is not "clean" while a member is kept), and once KeepMember lets it go the
// next run prunes it and the one after lists nothing.
func TestPruneKeepMember(t *testing.T) {
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := clientsFor(t, c)
	holding := true
	asked := 0
	apply := func(dry core.DryRunStrategy, objs string) *output.Report {
		t.Helper()
		a := &kube.Applier{Clients: cl, Section: "prunekeep", ApplySet: true, DryRun: dry,
			KeepMember: func(_ context.Context, kind, ns, name string) (string, bool, error) {
				asked++
				return "holds data", holding && kind == "ConfigMap" && name == "holds-data", nil
			}}
		rep, err := a.Apply(ctx, decode(t, objs))
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	actions := func(rep *output.Report) string {
		var out []string
		for _, r := range rep.Results {
			if r.Action != output.Unchanged {
				out = append(out, r.Name+"="+r.Action+"("+r.Detail+")")
			}
		}
		return strings.Join(out, " ")
	}
	exists := func(name string) bool {
		_, err := c.Client.CoreV1().ConfigMaps("prune-keep").Get(ctx, name, metav1.GetOptions{})
		return err == nil
	}
	apply(core.DryRunNone, keepSet)
	only := keepSet[:strings.Index(keepSet, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: holds-data")]

	if got := actions(apply(core.DryRunServer, only)); got != "holds-data=kept(holds data) dropped=pruned(no longer in the desired set)" || !exists("dropped") {
		t.Fatalf("server dry run: %q (dropped still there: %v)", got, exists("dropped"))
	}
	if got := actions(apply(core.DryRunNone, only)); got != "holds-data=kept(holds data) dropped=pruned(no longer in the desired set)" || exists("dropped") || !exists("holds-data") {
		t.Fatalf("apply: %q, want holds-data kept and dropped pruned (dropped there %v, holds-data there %v)", got, exists("dropped"), exists("holds-data"))
	}
	asked = 0
	if got := actions(apply(core.DryRunNone, only)); got != "holds-data=kept(holds data)" || asked != 1 {
		t.Fatalf("re-run: %q, KeepMember asked %d times: want holds-data kept again, asked once", got, asked)
	}
	holding = false
	if got := actions(apply(core.DryRunNone, only)); got != "holds-data=pruned(no longer in the desired set)" || exists("holds-data") {
		t.Fatalf("once let go: %q, want holds-data pruned", got)
	}
	asked = 0
	if got := actions(apply(core.DryRunNone, only)); got != "" || asked != 0 {
		t.Fatalf("after the prune: %q, KeepMember asked %d times: want nothing listed", got, asked)
	}
}
