package e2e

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func createClass(t *testing.T, c *testbed.Cluster, name, annotation string) {
	t.Helper()
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Annotations: map[string]string{annotation: "true"}},
		Provisioner: "example.com/nfs",
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(context.Background(), sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// verifyJSON runs verify -o json and decodes the report.
func verifyJSON(t *testing.T, c *testbed.Cluster, args ...string) (verify.Report, result) {
	t.Helper()
	r := runPlugin(t, c, append([]string{"verify", "--section", "cluster", "-o", "json"}, args...)...)
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify -o json is not JSON: %v\n%s", err, r.stdout)
	}
	return rep, r
}

func resultOf(t *testing.T, rep verify.Report, id string) checks.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no result %s in %+v", id, rep.Results)
	return checks.Result{}
}

// TestVerifyClusterSection runs `verify --section cluster` on the default test bed: red without a
// default StorageClass, green with exactly one (every output format parses), red naming both
// with two, and red naming the missing permissions for a user without RBAC.
func TestVerifyClusterSection(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})

	t.Run("no StorageClass fails CLUSTER-003", func(t *testing.T) {
		r := runPlugin(t, c, "verify", "--section", "cluster")
		if r.code != 3 || !strings.Contains(r.stdout, "no default StorageClass") || !strings.Contains(r.stdout, "kubectl flexigrobots storage") {
			t.Fatalf("want exit 3 naming the missing default class and the storage command, got %d", r.code)
		}
	})

	createClass(t, c, "nfs-client", cluster.DefaultClassAnnotation)

	t.Run("green table", func(t *testing.T) {
		r := runPlugin(t, c, "verify", "--section", "cluster", "--strict")
		if r.code != 0 {
			t.Fatalf("verify --section cluster: exit %d, want 0", r.code)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if !strings.HasPrefix(lines[0], "STATUS") {
			t.Fatalf("no table header: %q", lines[0])
		}
		for i, id := range []string{"CLUSTER-001", "CLUSTER-002", "CLUSTER-003", "CLUSTER-004", "CLUSTER-005"} {
			if f := strings.Fields(lines[i+1]); len(f) < 3 || f[0] != "OK" || f[1] != id || f[2] != "cluster" {
				t.Errorf("row %d = %q, want OK %s cluster ...", i+1, lines[i+1], id)
			}
		}
		if !strings.Contains(r.stdout, "default StorageClass: nfs-client") || !strings.Contains(r.stdout, "Kubernetes "+testbed.V137) ||
			!strings.Contains(r.stdout, "2/2 nodes Ready: "+testbed.GPUNode+", "+testbed.MasterNode) {
			t.Errorf("messages do not name what was found:\n%s", r.stdout)
		}
	})

	t.Run("json yaml junit parse", func(t *testing.T) {
		rep, r := verifyJSON(t, c)
		if r.code != 0 || rep.Summary.Total != 5 || rep.Summary.OK != 5 || rep.Summary.Worst != checks.OK {
			t.Fatalf("json: exit %d, summary %+v", r.code, rep.Summary)
		}
		r = runPlugin(t, c, "verify", "--section", "cluster", "-o", "yaml")
		var y verify.Report
		if err := yaml.Unmarshal([]byte(r.stdout), &y); err != nil || len(y.Results) != 5 || y.Results[2].Message != "default StorageClass: nfs-client" {
			t.Fatalf("yaml: %v %+v", err, y)
		}
		r = runPlugin(t, c, "verify", "--section", "cluster", "-o", "junit")
		var j output.JUnitSuites
		if err := xml.Unmarshal([]byte(r.stdout), &j); err != nil {
			t.Fatalf("junit does not parse: %v", err)
		}
		if r.code != 0 || j.Tests != 5 || j.Failures != 0 || len(j.Suites) != 1 || j.Suites[0].Name != "cluster" || j.Suites[0].Cases[3].Name != "CLUSTER-004 CSR signing works" {
			t.Fatalf("junit: exit %d, %+v", r.code, j)
		}
	})

	t.Run("the CSR probe leaves nothing behind", func(t *testing.T) {
		csrs, err := c.Client.CertificatesV1().CertificateSigningRequests().List(context.Background(), metav1.ListOptions{LabelSelector: kube.ManagedByLabel + "=" + kube.FieldManager})
		if err != nil || len(csrs.Items) != 0 {
			t.Fatalf("probe CSRs left: %d, %v", len(csrs.Items), err)
		}
	})

	t.Run("user without RBAC", func(t *testing.T) {
		rep, r := verifyJSON(t, c, "--as", "someone")
		if r.code != 3 {
			t.Fatalf("exit %d, want 3", r.code)
		}
		// CLUSTER-005: one error per section the user cannot run, naming what it lacks.
		var said string
		sections := 0
		for _, x := range rep.Results {
			if x.ID != "CLUSTER-005" {
				continue
			}
			sections++
			if x.Severity != checks.Error {
				t.Errorf("CLUSTER-005: %s %q, want error", x.Severity, x.Message)
			}
			said += x.Message + "\n" + x.Fix + "\n"
		}
		for _, want := range []string{"verify: missing", "storage: missing", "kubeflow: missing", "create", "patch", "customresourcedefinitions.apiextensions.k8s.io", "namespaces", "update certificatesigningrequests.certificates.k8s.io/approval", "clusterrolebinding"} {
			if !strings.Contains(said, want) {
				t.Errorf("CLUSTER-005 does not name %q:\n%s", want, said)
			}
		}
		if sections != 7 {
			t.Errorf("CLUSTER-005: %d results, want one per section (verify and the six commands)", sections)
		}
		// What the user may not read is skipped (CLUSTER-005 above is the finding), not an error per check.
		if n := resultOf(t, rep, "CLUSTER-002"); n.Severity != checks.Info || !strings.Contains(n.Message, "skipped") || !strings.Contains(n.Message, "forbidden") {
			t.Errorf("CLUSTER-002 for a user who cannot list nodes: %+v", n)
		}
		if s := resultOf(t, rep, "CLUSTER-001"); s.Severity != checks.OK {
			t.Errorf("the server is reachable for someone too: %+v", s)
		}
	})

	t.Run("bad input exits 2", func(t *testing.T) {
		for _, args := range [][]string{{"--section", "cluster,gpus"}, {"-o", "wide"}, {"--probe-timeout", "0s"}} {
			r := runPlugin(t, c, append([]string{"verify"}, args...)...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "error: ") {
				t.Errorf("verify %v: exit %d, want 2 with an error on stderr and nothing on stdout", args, r.code)
			}
		}
	})

	t.Run("collector records types the server does not serve", func(t *testing.T) {
		metallb := schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}
		dyn, err := dynamic.NewForConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
		if err != nil {
			t.Fatal(err)
		}
		probeRuns := 0
		probe := checks.Probe{Name: "count", Run: func(context.Context, checks.Env) (any, error) { probeRuns++; return probeRuns, nil }}
		cs := []checks.Check{
			{ID: "T-001", Section: "t", Title: "a", Severity: checks.Error, Resources: []schema.GroupVersionResource{metallb, cluster.NodesGVR}, Probes: []checks.Probe{probe}, Run: func(*checks.Snapshot) []checks.Result { return nil }},
			{ID: "T-002", Section: "t", Title: "b", Severity: checks.Error, Resources: []schema.GroupVersionResource{cluster.NodesGVR}, Probes: []checks.Probe{probe}, Run: func(*checks.Snapshot) []checks.Result { return nil }},
		}
		col := &checks.Collector{Env: checks.Env{Client: c.Client, Dynamic: dyn, Discovery: dc, Host: c.Config.Host, ProbeTimeout: 10 * time.Second}}
		s := col.Collect(context.Background(), cs)
		if _, err := s.List(metallb); !checks.IsNotServed(err) {
			t.Errorf("MetalLB pools: want not served, got %v", err)
		}
		nodes, err := s.List(cluster.NodesGVR)
		if err != nil || len(nodes) != 2 {
			t.Errorf("nodes: %d, %v", len(nodes), err)
		}
		if v, err := checks.ProbeAs[int](s, "count"); err != nil || v != 1 || probeRuns != 1 {
			t.Errorf("a probe shared by two checks must run once: value %v, runs %d, %v", v, probeRuns, err)
		}
	})

	createClass(t, c, "legacy", cluster.BetaDefaultClassAnnotation)

	t.Run("two defaults fail naming both", func(t *testing.T) {
		rep, r := verifyJSON(t, c)
		sc := resultOf(t, rep, "CLUSTER-003")
		if r.code != 3 || sc.Severity != checks.Error || !strings.Contains(sc.Message, "2 default StorageClasses: legacy, nfs-client") || !strings.Contains(sc.Fix, "kubectl flexigrobots storage") {
			t.Fatalf("exit %d, CLUSTER-003 %+v", r.code, sc)
		}
		if rep.Summary.Error != 1 {
			t.Errorf("only CLUSTER-003 should fail: %+v", rep.Summary)
		}
	})
}
