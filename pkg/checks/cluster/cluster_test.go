package cluster

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/distro"
)

// run evaluates the cluster check id over s, the way verify does.
func run(t *testing.T, s *checks.Snapshot, id string) []checks.Result {
	t.Helper()
	for _, c := range Checks(testSections) {
		if c.ID == id {
			return checks.Evaluate(s, []checks.Check{c})
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func wantOne(t *testing.T, rs []checks.Result, sev checks.Severity, contains ...string) checks.Result {
	t.Helper()
	if len(rs) != 1 {
		t.Fatalf("want 1 result, got %d: %+v", len(rs), rs)
	}
	r := rs[0]
	if r.Severity != sev {
		t.Errorf("severity = %s, want %s (%s)", r.Severity, sev, r.Message)
	}
	for _, c := range contains {
		if !strings.Contains(r.Message+"\n"+r.Fix, c) {
			t.Errorf("result does not mention %q:\n%s\nFix: %s", c, r.Message, r.Fix)
		}
	}
	return r
}

func class(name string, annotations map[string]string) runtime.Object {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}, Provisioner: "example.com/nfs"}
}

func TestDefaultStorageClass(t *testing.T) {
	ga := map[string]string{DefaultClassAnnotation: "true"}
	beta := map[string]string{BetaDefaultClassAnnotation: "true"}
	notDefault := map[string]string{DefaultClassAnnotation: "false"}
	for _, tc := range []struct {
		name    string
		classes []runtime.Object
		sev     checks.Severity
		want    []string
	}{
		{"none at all", nil, checks.Error, []string{"no default StorageClass", "no StorageClass at all", "kubectl flexigrobots storage"}},
		{"present but none default", []runtime.Object{class("slow", notDefault), class("local", nil)}, checks.Error, []string{"none default: local, slow", "kubectl flexigrobots storage"}},
		{"one default", []runtime.Object{class("nfs-client", ga), class("local", nil)}, checks.OK, []string{"default StorageClass: nfs-client"}},
		{"one default by the beta annotation", []runtime.Object{class("legacy", beta)}, checks.OK, []string{"legacy"}},
		{"two defaults", []runtime.Object{class("nfs-client", ga), class("legacy", beta), class("local", nil)}, checks.Error, []string{"2 default StorageClasses: legacy, nfs-client", "kubectl flexigrobots storage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := checks.NewSnapshot().WithObjects(StorageClassesGVR, tc.classes...)
			r := wantOne(t, run(t, s, "CLUSTER-003"), tc.sev, tc.want...)
			if r.ID != "CLUSTER-003" || r.Section != Section || r.Title == "" {
				t.Errorf("result not labelled with its check: %+v", r)
			}
			if tc.sev == checks.OK && r.Fix != "" {
				t.Errorf("an OK result has a fix: %q", r.Fix)
			}
			if tc.sev == checks.Error && len(tc.classes) == 3 && strings.Contains(r.Message, "local") {
				t.Errorf("the non-default class local is named: %s", r.Message)
			}
		})
	}
}

func TestDefaultStorageClassCannotEvaluate(t *testing.T) {
	s := checks.NewSnapshot().WithListError(StorageClassesGVR, errors.New(`storageclasses.storage.k8s.io is forbidden: User "someone" cannot list`))
	wantOne(t, run(t, s, "CLUSTER-003"), checks.Error, "cannot evaluate", "forbidden", "CLUSTER-005")
}

func node(name string, ready corev1.ConditionStatus, reason string, unschedulable bool) runtime.Object {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{Unschedulable: unschedulable}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: reason, Message: "kubelet says " + reason}}
	}
	return n
}

func TestNodesReady(t *testing.T) {
	s := checks.NewSnapshot().WithObjects(NodesGVR, node("master", corev1.ConditionTrue, "KubeletReady", false), node("gpu-worker", corev1.ConditionTrue, "KubeletReady", false))
	wantOne(t, run(t, s, "CLUSTER-002"), checks.OK, "2/2 nodes Ready: gpu-worker, master")

	s = checks.NewSnapshot().WithObjects(NodesGVR,
		node("master", corev1.ConditionTrue, "KubeletReady", false),
		node("gpu-worker", corev1.ConditionUnknown, "NodeStatusUnknown", false),
		node("new", "", "", false))
	r := wantOne(t, run(t, s, "CLUSTER-002"), checks.Error, "2 of 3 nodes not Ready", "gpu-worker (Ready=Unknown NodeStatusUnknown", "new (no Ready condition reported)")
	if strings.Contains(r.Message, "master") {
		t.Errorf("ready node named as not ready: %s", r.Message)
	}

	s = checks.NewSnapshot().WithObjects(NodesGVR)
	wantOne(t, run(t, s, "CLUSTER-002"), checks.Error, "no nodes registered")

	s = checks.NewSnapshot().WithObjects(NodesGVR, node("master", corev1.ConditionTrue, "KubeletReady", true))
	rs := run(t, s, "CLUSTER-002")
	if len(rs) != 2 || rs[0].Severity != checks.OK || rs[1].Severity != checks.Warn || !strings.Contains(rs[1].Message, "cordoned (unschedulable) nodes: master") {
		t.Fatalf("cordoned node: want OK + Warn naming master, got %+v", rs)
	}
}

func TestServerReachable(t *testing.T) {
	s := checks.NewSnapshot().WithServer("https://127.0.0.1:6443", &version.Info{GitVersion: "v1.21.14"}, nil)
	wantOne(t, run(t, s, "CLUSTER-001"), checks.OK, "Kubernetes v1.21.14 at https://127.0.0.1:6443")
	s = checks.NewSnapshot().WithServer("https://127.0.0.1:6443", nil, errors.New("API server https://127.0.0.1:6443 not reachable: connection refused"))
	wantOne(t, run(t, s, "CLUSTER-001"), checks.Error, "connection refused", "kubectl config current-context")
}

func TestCSRSigning(t *testing.T) {
	s := checks.NewSnapshot().WithProbe(CSRSigningProbe.Name, CSRSigning{Signed: true, Timeout: "30s"}, nil)
	wantOne(t, run(t, s, "CLUSTER-004"), checks.OK, "signed")

	s = checks.NewSnapshot().WithProbe(CSRSigningProbe.Name, CSRSigning{Signed: false, Timeout: "30s", Distribution: distro.RKE1}, nil)
	r := wantOne(t, run(t, s, "CLUSTER-004"), checks.Error, "no certificate within 30s", "on RKE add cluster-signing-cert-file/cluster-signing-key-file to kube-controller extra_args")
	runbookYAML := `    kube-controller:
      extra_args:
        cluster-signing-cert-file: /etc/kubernetes/ssl/kube-ca.pem
        cluster-signing-key-file: /etc/kubernetes/ssl/kube-ca-key.pem
`
	if !strings.Contains(r.Fix, runbookYAML) {
		t.Errorf("fix lacks the runbook's exact YAML:\n%s", r.Fix)
	}

	s = checks.NewSnapshot().WithProbe(CSRSigningProbe.Name, nil, errors.New("create CertificateSigningRequest: connection reset"))
	wantOne(t, run(t, s, "CLUSTER-004"), checks.Error, "cannot evaluate", "connection reset", "certificatesigningrequests/approval")

	// A read-only identity: the probe did not run, the check is skipped naming what it needs.
	s = checks.NewSnapshot().WithProbe(CSRSigningProbe.Name, nil, checks.NotAllowed("the CSR-signing probe did not run: approve signers kubernetes.io/kube-apiserver-client"))
	wantOne(t, run(t, s, "CLUSTER-004"), checks.Info, "skipped", "approve signers kubernetes.io/kube-apiserver-client", "certificatesigningrequests/approval")
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "certificates.k8s.io", Resource: "certificatesigningrequests"}, "", errors.New("RBAC: no rule"))
	s = checks.NewSnapshot().WithProbe(CSRSigningProbe.Name, nil, fmt.Errorf("create CertificateSigningRequest: %w", forbidden))
	wantOne(t, run(t, s, "CLUSTER-004"), checks.Info, "skipped", "forbidden")
}

// testSections are two small declarations: one that only reads, one that writes.
func testSections() []access.Section {
	return []access.Section{
		{Name: "verify", Rules: []rbacv1.PolicyRule{access.Rule("", []string{"nodes"}, "list")}},
		{Name: "storage", Rules: []rbacv1.PolicyRule{
			access.Rule("", []string{"pods", "persistentvolumeclaims"}, "get", "create", "delete"),
			access.Rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "create", "patch"),
			access.Rule("certificates.k8s.io", []string{"certificatesigningrequests/approval"}, "update"),
			access.Rule("", []string{"nodes"}, "list"),
		}},
	}
}

func decisions(deny ...string) []AccessDecision {
	var out []AccessDecision
	for _, a := range access.Union(testSections()...) {
		allowed := true
		for _, d := range deny {
			if d == a.Verb+" "+a.String() {
				allowed = false
			}
		}
		out = append(out, AccessDecision{Access: a, Allowed: allowed})
	}
	return out
}

func TestRBACAccess(t *testing.T) {
	s := checks.NewSnapshot().WithProbe(accessProbeName, decisions(), nil)
	wantOne(t, run(t, s, "CLUSTER-005"), checks.OK, "all ")

	s = checks.NewSnapshot().WithProbe(accessProbeName, decisions(
		"create customresourcedefinitions.apiextensions.k8s.io",
		"patch customresourcedefinitions.apiextensions.k8s.io",
		"update certificatesigningrequests.certificates.k8s.io/approval",
		"delete pods"), nil)
	r := wantOne(t, run(t, s, "CLUSTER-005"), checks.Error,
		"storage: missing 4 of 10", "create,patch customresourcedefinitions.apiextensions.k8s.io",
		"update certificatesigningrequests.certificates.k8s.io/approval", "delete pods", "clusterrolebinding")
	if strings.Contains(r.Message, "persistentvolumeclaims") || strings.Contains(r.Message, "verify") {
		t.Errorf("granted permission or section named as missing: %s", r.Message)
	}
	// Both sections short: one error each, naming its section.
	rs := run(t, checks.NewSnapshot().WithProbe(accessProbeName, decisions("list nodes", "create pods"), nil), "CLUSTER-005")
	if len(rs) != 2 || !strings.HasPrefix(rs[0].Message, "verify: missing 1 of 1") || !strings.HasPrefix(rs[1].Message, "storage: missing 2 of 10") {
		t.Fatalf("want one error per section: %+v", rs)
	}

	// Bound to `view`: every write refused. verify is what it runs; that is not a finding.
	var writes []string
	for _, a := range access.Union(testSections()...) {
		if a.Verb != "get" && a.Verb != "list" {
			writes = append(writes, a.Verb+" "+a.String())
		}
	}
	wantOne(t, run(t, checks.NewSnapshot().WithProbe(accessProbeName, decisions(writes...), nil), "CLUSTER-005"), checks.Info,
		"read-only identity", "storage: missing "+fmt.Sprint(len(writes)))
	// Refused everything, reads too: its verify checks nothing, which is a finding.
	var all []string
	for _, a := range access.Union(testSections()...) {
		all = append(all, a.Verb+" "+a.String())
	}
	if rs := run(t, checks.NewSnapshot().WithProbe(accessProbeName, decisions(all...), nil), "CLUSTER-005"); len(rs) != 2 || rs[0].Severity != checks.Error {
		t.Fatalf("refused everything: %+v", rs)
	}

	s = checks.NewSnapshot().WithProbe(accessProbeName, nil, errors.New("SelfSubjectAccessReview: connection reset"))
	wantOne(t, run(t, s, "CLUSTER-005"), checks.Error, "cannot evaluate", "connection reset")
}

func TestChecksRegisterCleanly(t *testing.T) {
	r := checks.NewRegistry()
	r.Register(Checks(testSections)...) // panics on a malformed or duplicate check
	if got := r.Sections(); len(got) != 1 || got[0] != Section {
		t.Fatalf("sections = %v", got)
	}
}
