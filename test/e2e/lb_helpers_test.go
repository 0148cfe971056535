package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// Pool addresses on loopback only: nothing on the test bed is ever pointed elsewhere.
const (
	lbPoolA = "127.240.0.10-127.240.0.20"
	lbPoolB = "127.240.0.30-127.240.0.40"
)

func lbArgs(repo string, extra ...string) []string {
	return append([]string{"lb", "--chart-repo", repo, "--timeout", "3m"}, extra...)
}

func lbReport(t *testing.T, r result) output.Report {
	t.Helper()
	var rep output.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-o json is not a report: %v\n%s", err, r.stdout)
	}
	return rep
}

// lbActions maps kind/name to the action of a report.
func lbActions(rep output.Report) map[string]string {
	out := map[string]string{}
	for _, x := range rep.Results {
		out[x.Kind+"/"+x.Name] = x.Action
	}
	return out
}

// lbState is the resourceVersion of the release Secrets, workloads, pool and L2Advertisement.
func lbState(t *testing.T, c *testbed.Cluster, dyn dynamic.Interface) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	secrets, err := c.Client.CoreV1().Secrets(lb.DefaultNamespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		out["secret/"+s.Name] = s.ResourceVersion
	}
	deps, err := c.Client.AppsV1().Deployments(lb.DefaultNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		out["deployment/"+d.Name] = d.ResourceVersion
	}
	dss, err := c.Client.AppsV1().DaemonSets(lb.DefaultNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		out["daemonset/"+d.Name] = d.ResourceVersion
	}
	for _, gvr := range []struct{ kind, name string }{{"ipaddresspools", lb.DefaultPool}, {"l2advertisements", lb.DefaultL2}} {
		res := lb.IPAddressPoolsGVR
		if gvr.kind == "l2advertisements" {
			res = lb.L2AdvertisementsGVR
		}
		u, err := dyn.Resource(res).Namespace(lb.DefaultNamespace).Get(ctx, gvr.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[gvr.kind+"/"+gvr.name] = u.GetResourceVersion()
	}
	if len(out) < 5 {
		t.Fatalf("state too small to prove anything: %v", out)
	}
	return out
}

func lbPoolAddresses(t *testing.T, dyn dynamic.Interface) string {
	t.Helper()
	u, err := dyn.Resource(lb.IPAddressPoolsGVR).Namespace(lb.DefaultNamespace).Get(context.Background(), lb.DefaultPool, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "addresses")
	return strings.Join(a, ",")
}

func mustRanges(t *testing.T, entries ...string) []lb.Range {
	t.Helper()
	rs, err := lb.ParseAddresses(entries)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func lbWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// lbNoProbeServices fails when a probe Service is left anywhere.
func lbNoProbeServices(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	svcs, err := c.Client.CoreV1().Services("").List(context.Background(), metav1.ListOptions{LabelSelector: lb.ProbeLabel})
	if err != nil || len(svcs.Items) != 0 {
		t.Fatalf("probe Services left behind: %d (err %v)", len(svcs.Items), err)
	}
}
