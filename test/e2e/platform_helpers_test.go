package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The values of the README's "runbook as commands" block, with the documentation addresses
// swapped for loopback ones (the test bed uses no other): the platform file of the tests says
// the same, so after `apply -f` each README command must find nothing to change.
const (
	readmeNFSServer = "192.0.2.10"
	readmeLBAddress = "203.0.113.10/32"
	bedLBAddress    = "127.240.0.10/32"
	ghClientSecret  = "gh-oauth-secret-of-the-platform-file-0xBEEF"
)

// platformBed is a test bed with the platform file of the tests and what it refers to.
type platformBed struct {
	c           *testbed.Cluster
	repo, kfURL string
	dir         string
	// mirror serves the remote kustomize bases of Kubeflow 26.03 on loopback (the test bed has
	// no GitHub, and no git: a build that tried to reach them would fail).
	mirror string
}

// writePlatform writes the tests' platform file (every section, no version anywhere) into
// b.dir as name, with edit applied to its text, and returns its path.
func (b *platformBed) writePlatform(t *testing.T, name string, edit func(string) string) string {
	t.Helper()
	doc := `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: e2e-platform
spec:
  storage:
    nfsServer: ` + nfsServer + `
    nfsPath: ` + nfsPath + `
    smokeTest: true
    chart: {repo: ` + b.repo + `}
  lb:
    addresses: [` + bedLBAddress + `]
    probe: true
    chart: {repo: ` + b.repo + `}
  kubeflow:
    manifests: ` + b.kfURL + `
    registrationFlow: true
    ingressServiceType: LoadBalancer
    dexIssuer: https://kubeflow.example.com/dex
    github:
      clientID: ID
      clientSecretFile: gh-secret.txt
      org: ORG
      teams: [TEAM]
      redirectURI: https://kubeflow.example.com/dex/callback
    remoteBasesMirror: ` + b.mirror + `
  tls:
    domain: kubeflow.example.com
    manual: {certFile: tls.crt, keyFile: tls.key}
  gpu:
    operator:
      chart: {repo: ` + b.repo + `}
    slicing:
      replicas: 4
  profiles:
    allProfiles: true
`
	if edit != nil {
		doc = edit(doc)
	}
	p := filepath.Join(b.dir, name)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// newPlatformBed writes the secret file and a test certificate beside the platform file.
func newPlatformBed(t *testing.T, c *testbed.Cluster, repo, kfURL string) *platformBed {
	t.Helper()
	mirror, _ := testbed.RemoteBasesMirror(t)
	b := &platformBed{c: c, repo: repo, kfURL: kfURL, dir: t.TempDir(), mirror: mirror}
	if err := os.WriteFile(filepath.Join(b.dir, "gh-secret.txt"), []byte(ghClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, key, err := c.IssueServingCert("kubeflow.example.com", nil, []string{"kubeflow.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{cert: "tls.crt", key: "tls.key"} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.dir, to), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// summaryOf parses `apply -o json`.
func summaryOf(t *testing.T, r result) map[string]platform.Outcome {
	t.Helper()
	var s platform.Summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("summary is not json: %v\n%s", err, r.stdout)
	}
	out := map[string]platform.Outcome{}
	for _, o := range s.Sections {
		out[o.Section] = o
	}
	return out
}

// wantResults fails unless every section in want has that result (and a reason containing
// the text after '|', if any).
func wantResults(t *testing.T, got map[string]platform.Outcome, want map[string]string) {
	t.Helper()
	for sec, w := range want {
		res, reason, _ := strings.Cut(w, "|")
		o, ok := got[sec]
		if !ok || o.Result != res || !strings.Contains(o.Reason, reason) {
			t.Errorf("section %s: got %q (%s), want %q with reason containing %q", sec, o.Result, o.Reason, res, reason)
		}
	}
	if len(got) != len(want) {
		t.Errorf("summary has %d sections, want %d: %v", len(got), len(want), got)
	}
}

// platformState is the resourceVersion of every object the platform's sections write (and
// their neighbours), by kind/namespace/name: an unchanged re-run must move none of them.
// Pods, events, leases and endpoints are left out: kwok and the controllers write those.
func platformState(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	gvrs := []schema.GroupVersionResource{
		{Version: "v1", Resource: "namespaces"}, {Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "secrets"},
		{Version: "v1", Resource: "services"}, {Version: "v1", Resource: "serviceaccounts"},
		{Group: "apps", Version: "v1", Resource: "deployments"}, {Group: "apps", Version: "v1", Resource: "daemonsets"},
		{Group: "apps", Version: "v1", Resource: "statefulsets"},
		{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
		{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
		{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"},
		{Group: "metallb.io", Version: "v1beta1", Resource: "l2advertisements"},
		{Group: "nvidia.com", Version: "v1", Resource: "clusterpolicies"},
	}
	out := map[string]string{}
	for _, gvr := range gvrs {
		list, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // a CRD not installed (yet)
		}
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, o := range list.Items {
			rv := o.GetResourceVersion()
			if gvr.Resource == "configmaps" && o.GetNamespace() == kube.RecordNamespace && o.GetName() == section.PlatformRecord {
				// Every finished apply records its block there: a run with other flags that
				// changes no object (another --manifests) still records them. Whether it is
				// there counts; TestPlatformRecordOnTheAPIServer and the upgrade's identical
				// re-run prove that the same block writes nothing.
				rv = "(recorded)"
			}
			out[gvr.Resource+"/"+o.GetNamespace()+"/"+o.GetName()] = rv
		}
	}
	return out
}

// settledState is platformState once the fresh control plane has done its own first writes
// (kube-root-ca.crt in every namespace, the aggregated ClusterRoles): two snapshots a second
// apart agree, within 60 s.
func settledState(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	prev := platformState(t, c)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		cur := platformState(t, c)
		if maps.Equal(prev, cur) {
			return cur
		}
		prev = cur
	}
	t.Fatal("the test bed's objects kept changing for 60 s after start")
	return nil
}

// sameState fails with the objects that appeared, disappeared or moved.
func sameState(t *testing.T, before, after map[string]string) {
	t.Helper()
	var diff []string
	for k, v := range before {
		if a, ok := after[k]; !ok {
			diff = append(diff, "deleted "+k)
		} else if a != v {
			diff = append(diff, "moved "+k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			diff = append(diff, "created "+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("%d objects changed:\n  %s", len(diff), strings.Join(diff, "\n  "))
	}
}
