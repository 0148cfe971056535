package kube_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// clientsFor builds the engine's clients exactly as a command does: from kubectl's ConfigFlags.
func clientsFor(t *testing.T, c *testbed.Cluster) *kube.Clients {
	t.Helper()
	cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

const widgetCRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.flexigrobots.io
spec:
  group: example.flexigrobots.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: v1
kind: Namespace
metadata: {name: widgets}
---
apiVersion: example.flexigrobots.io/v1
kind: Widget
metadata: {name: first, namespace: widgets}
spec: {size: 1}
---
apiVersion: example.flexigrobots.io/v1
kind: Widget
metadata: {name: second, namespace: widgets}
spec: {size: 2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: widgets}
data: {a: "1"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-aggregate
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {widgets.example/aggregate: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {widgets.example/aggregate: "true"}
rules:
- apiGroups: [example.flexigrobots.io]
  resources: [widgets]
  verbs: [get, list]
`

func decode(t *testing.T, s string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := kube.DecodeManifests([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func actions(rep *output.Report) map[string]int {
	m := map[string]int{}
	for _, r := range rep.Results {
		m[r.Action]++
	}
	return m
}

// resourceVersions reads the resourceVersion of every object in objs.
func resourceVersions(t *testing.T, cl *kube.Clients, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := cl.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatal(err)
		}
		ns := o.GetNamespace()
		var u *unstructured.Unstructured
		if ns == "" {
			u, err = cl.Dynamic.Resource(m.Resource).Get(context.Background(), o.GetName(), metav1.GetOptions{})
		} else {
			u, err = cl.Dynamic.Resource(m.Resource).Namespace(ns).Get(context.Background(), o.GetName(), metav1.GetOptions{})
		}
		if err != nil {
			t.Fatalf("get %s: %v", kube.Ref(o), err)
		}
		out[kube.Ref(o)] = u.GetResourceVersion()
	}
	return out
}

// TestApplyCRDAndCustomResourcesInOnePassThenUnchanged: a set with a CRD and its CRs converges
// in one call; a second call reports every object unchanged and moves no resourceVersion. An
// aggregated ClusterRole does not fight the controller-manager over .rules.
func TestApplyCRDAndCustomResourcesInOnePassThenUnchanged(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	cl := clientsFor(t, c)
	objs := decode(t, widgetCRD)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Server dry-run first: every object would be created; the server checks what it can (the
	// CRD, the ClusterRoles) and what it cannot (objects in the new namespace, Widgets of the new
	// CRD) is reported as not sent. Nothing is persisted.
	var dryProgress bytes.Buffer
	dry := &kube.Applier{Clients: cl, DryRun: core.DryRunServer, Progress: output.NewProgress(&dryProgress)}
	rep, err := dry.Apply(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	if p := dryProgress.String(); !strings.Contains(p, "checked 1 of ") || !strings.Contains(p, "(server dry run)") || strings.Contains(p, "applied") {
		t.Errorf("a dry run's progress says it applied, or not what it checked:\n%s", p)
	}
	notSent := 0
	for _, r := range rep.Results {
		if r.Action != output.Created || r.DryRun != "server" {
			t.Fatalf("dry run result = %+v, want created (server dry run)", r)
		}
		if strings.HasPrefix(r.Detail, "not sent") {
			notSent++
		}
	}
	if len(rep.Results) != len(objs) || notSent != 3 { // the two Widgets and the ConfigMap
		t.Fatalf("dry run: %d results, %d not sent, want %d and 3: %+v", len(rep.Results), notSent, len(objs), rep.Results)
	}
	if _, err := c.Client.CoreV1().Namespaces().Get(ctx, "widgets", metav1.GetOptions{}); err == nil {
		t.Fatal("server dry run created the namespace")
	}

	var firstProgress bytes.Buffer
	a := &kube.Applier{Clients: cl, Progress: output.NewProgress(&firstProgress)}
	rep, err = a.Apply(ctx, objs)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if p := firstProgress.String(); !strings.Contains(p, "applied 1 of ") || !strings.Contains(p, "(1 changed)") {
		t.Errorf("the first apply's progress does not say it applied:\n%s", p)
	}
	if got := actions(rep); got[output.Created] != len(objs) {
		t.Fatalf("first apply actions = %v, want %d created", got, len(objs))
	}
	// Let the aggregation controller fill .rules of the aggregated role before comparing.
	waitAggregated(t, c)
	before := resourceVersions(t, cl, objs)

	var noopProgress bytes.Buffer
	a2 := &kube.Applier{Clients: clientsFor(t, c), Progress: output.NewProgress(&noopProgress)}
	rep, err = a2.Apply(ctx, objs)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if p := noopProgress.String(); !strings.Contains(p, "none changed so far") || strings.Contains(p, "applied") {
		t.Errorf("a no-op's progress says it applied:\n%s", p)
	}
	if got := actions(rep); got[output.Unchanged] != len(objs) {
		t.Fatalf("second apply actions = %v, want all %d unchanged: %+v", got, len(objs), rep.Results)
	}
	after := resourceVersions(t, cl, objs)
	for ref, rv := range before {
		if after[ref] != rv {
			t.Errorf("%s resourceVersion moved %s -> %s", ref, rv, after[ref])
		}
	}

	// A changed object is configured, the rest unchanged.
	objs[4].Object["data"] = map[string]any{"a": "2"}
	rep, err = a2.Apply(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got[output.Configured] != 1 || got[output.Unchanged] != len(objs)-1 {
		t.Fatalf("third apply actions = %v, want 1 configured", got)
	}
	u, err := cl.Dynamic.Resource(schema.GroupVersionResource{Group: "example.flexigrobots.io", Version: "v1", Resource: "widgets"}).Namespace("widgets").Get(ctx, "first", metav1.GetOptions{})
	if err != nil || u.GetLabels()[kube.ManagedByLabel] != kube.FieldManager {
		t.Fatalf("widget first: %v, labels %v", err, u.GetLabels())
	}
}

func waitAggregated(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	for i := 0; i < 100; i++ {
		r, err := c.Client.RbacV1().ClusterRoles().Get(context.Background(), "widgets-aggregate", metav1.GetOptions{})
		if err == nil && len(r.Rules) > 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("aggregation controller never filled widgets-aggregate")
}

// configMaps returns n ConfigMaps in namespace ns (plus the namespace).
func configMaps(ns string, n int, value string) []*unstructured.Unstructured {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns)
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%03d, namespace: %s}\ndata: {value: %q}\n", i, ns, value)
	}
	objs, _ := kube.DecodeManifests([]byte(b.String()))
	return objs
}

// TestApplyConvergesThroughAPIServerRestart kills kube-apiserver in the middle of a 400-object
// apply and starts it again: the apply retries and converges within its timeout; a re-run then
// reports everything unchanged.
func TestApplyConvergesThroughAPIServerRestart(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	cl := clientsFor(t, c)
	objs := configMaps("bulk", 400, "v1")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	errc := make(chan error, 1)
	var rep *output.Report
	go func() {
		var err error
		rep, err = (&kube.Applier{Clients: cl, Parallelism: 2}).Apply(ctx, objs)
		errc <- err
	}()
	// Wait until the apply is under way, then crash and restart the API server.
	for {
		list, err := c.Client.CoreV1().ConfigMaps("bulk").List(ctx, metav1.ListOptions{})
		if err == nil && len(list.Items) >= 40 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	begin := time.Now()
	c.KillAPIServer()
	time.Sleep(2 * time.Second)
	if err := c.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server killed and back after %s", time.Since(begin).Round(time.Millisecond))
	err := <-errc
	t.Logf("apply finished %s after the kill", time.Since(begin).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("apply did not converge through the restart: %v", err)
	}
	if len(rep.Results) != len(objs) {
		t.Fatalf("%d results for %d objects", len(rep.Results), len(objs))
	}
	list, err := c.Client.CoreV1().ConfigMaps("bulk").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) < 400 {
		t.Fatalf("after restart: %v, %d configmaps", err, len(list.Items))
	}
	rep, err = (&kube.Applier{Clients: clientsFor(t, c)}).Apply(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(rep); got[output.Unchanged] != len(objs) {
		t.Fatalf("re-run after restart: %v, want all unchanged", got)
	}
}
