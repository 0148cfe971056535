package e2e

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
