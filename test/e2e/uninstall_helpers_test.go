package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// helmReleases counts the helm release records (Secrets owner=helm) in namespace ns.
func helmReleases(t *testing.T, c *testbed.Cluster, ns string) int {
	t.Helper()
	l, err := c.Client.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

// actionsByKind maps each result kind of a -o json report to its action.
func actionsByKind(t *testing.T, r result) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, x := range kfReport(t, r).Results {
		got[x.Kind] = x.Action
	}
	return got
}

// leftAsFoundKinds are the cluster-scoped kinds an uninstall must leave as it found them.
var leftAsFoundKinds = []schema.GroupVersionResource{
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	{Version: "v1", Resource: "namespaces"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
	{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
}

// clusterObject is one object of leftAsFoundKinds in a snapshot.
type clusterObject struct {
	uid      types.UID
	created  time.Time
	set      string // the ApplySet it is a member of ("" for none)
	managers []string
}

// clusterObjects snapshots leftAsFoundKinds by resource//name (platformState's keys).
func clusterObjects(t *testing.T, c *testbed.Cluster) map[string]clusterObject {
	t.Helper()
	md := metadata.NewForConfigOrDie(c.Config)
	out := map[string]clusterObject{}
	for _, gvr := range leftAsFoundKinds {
		list, err := md.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, o := range list.Items {
			var managers []string
			for _, m := range o.ManagedFields {
				managers = append(managers, m.Manager+"/"+string(m.Operation))
			}
			out[gvr.Resource+"//"+o.Name] = clusterObject{uid: o.UID, created: o.CreationTimestamp.Time,
				set: o.Labels["applyset.kubernetes.io/part-of"], managers: managers}
		}
	}
	return out
}

// settledClusterObjects is clusterObjects a few seconds after an uninstall returned: what a
// controller creates again under a deleted name does so within them.
func settledClusterObjects(t *testing.T, c *testbed.Cluster) map[string]clusterObject {
	t.Helper()
	time.Sleep(3 * time.Second)
	return clusterObjects(t, c)
}

// assertLeftAsFound fails with every object of leftAsFoundKinds in after that is not one of
// before (uid by resource//name): not there, or there under the same name with another uid
// (something created it again). An object of before that merely changed (the cluster's
// aggregated ClusterRoles are rewritten when what they aggregate goes) is fine.
func assertLeftAsFound(t *testing.T, before map[string]types.UID, after map[string]clusterObject) {
	t.Helper()
	var diff []string
	for k, o := range after {
		uid, known := before[k]
		switch {
		case !known:
			diff = append(diff, fmt.Sprintf("%s (uid %s, created %s by %v) was not there before", k, o.uid, o.created.Format(time.RFC3339), o.managers))
		case uid != o.uid:
			diff = append(diff, fmt.Sprintf("%s is another object than before (uid %s, was %s; created %s by %v)", k, o.uid, uid, o.created.Format(time.RFC3339), o.managers))
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("%d cluster objects differ from before:\n  %s", len(diff), strings.Join(diff, "\n  "))
	}
}
