package kube_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const pruneSet = `
apiVersion: v1
kind: Namespace
metadata: {name: prune}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: prune}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: prune}
`

// TestPrune: members the desired set dropped are deleted after a successful apply (never after
// a failed one), a dry run only reports them (objects before their namespace), and what the
// plugin did not apply survives.
func TestPrune(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl := clientsFor(t, c)
	apply := func(dry core.DryRunStrategy, objs string) (*output.Report, error) {
		return (&kube.Applier{Clients: cl, Section: "prunetest", ApplySet: true, DryRun: dry}).Apply(ctx, decode(t, objs))
	}
	exists := func(name string) bool {
		_, err := c.Client.CoreV1().ConfigMaps("prune").Get(ctx, name, metav1.GetOptions{})
		return err == nil
	}
	pruned := func(rep *output.Report) []string {
		var out []string
		for _, r := range rep.Results {
			if r.Action == kube.Pruned {
				out = append(out, r.Kind+"/"+r.Name)
			}
		}
		return out
	}
	if _, err := apply(core.DryRunNone, pruneSet); err != nil {
		t.Fatal(err)
	}
	byHand := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "by-hand", Namespace: "prune"}}
	if _, err := c.Client.CoreV1().ConfigMaps("prune").Create(ctx, byHand, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// A failed apply (an invalid name) prunes nothing.
	bad := pruneSet[:len(pruneSet)-len("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: prune}\n")] +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name, namespace: prune}\n"
	if _, err := apply(core.DryRunNone, bad); err == nil {
		t.Fatal("the invalid ConfigMap was applied")
	}
	if !exists("b") {
		t.Fatal("a failed apply pruned b")
	}

	// Without b: b pruned, a kept.
	withoutB := pruneSet[:len(pruneSet)-len("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: prune}\n")]
	rep, err := apply(core.DryRunNone, withoutB)
	if err != nil {
		t.Fatal(err)
	}
	if got := pruned(rep); len(got) != 1 || got[0] != "ConfigMap/b" || exists("b") || !exists("a") {
		t.Fatalf("pruned %v (b exists %v, a exists %v): want exactly b", got, exists("b"), exists("a"))
	}
	rep, err = apply(core.DryRunNone, withoutB)
	if err != nil || len(pruned(rep)) != 0 {
		t.Fatalf("re-run pruned %v (%v)", pruned(rep), err)
	}

	// A failed run that created a new member c (another set than the last prune's), then the
	// last set again: its re-run, whose members are those of the last prune, still finds c.
	withC := withoutB + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: prune}\n" +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_A_Name, namespace: prune}\n"
	if _, err := apply(core.DryRunNone, withC); err == nil || !exists("c") {
		t.Fatalf("want a failed apply that created c (err %v, c exists %v)", err, exists("c"))
	}
	rep, err = apply(core.DryRunNone, withoutB)
	if got := pruned(rep); err != nil || len(got) != 1 || got[0] != "ConfigMap/c" || exists("c") {
		t.Fatalf("after a failed run with c: pruned %v (%v), want exactly c", got, err)
	}

	// A server dry run of an empty set: the ConfigMap before its Namespace, nothing deleted.
	rep, err = apply(core.DryRunServer, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := pruned(rep); len(got) != 2 || got[0] != "ConfigMap/a" || got[1] != "Namespace/prune" {
		t.Fatalf("dry run would prune %v, want ConfigMap/a then Namespace/prune", got)
	}
	if !exists("a") || !exists("by-hand") {
		t.Fatal("the dry run deleted something, or the hand-made ConfigMap went")
	}
}
