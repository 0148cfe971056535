package profile

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

func profileObj(name string) unstructured.Unstructured {
	return unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "Profile", "metadata": map[string]any{"name": name}}}
}

func labelled(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{WebhookLabel: WebhookLabelValue}}}
}

func run(t *testing.T, id string, s *checks.Snapshot) []checks.Result {
	t.Helper()
	for _, c := range Checks() {
		if c.ID == id {
			return c.Run(s)
		}
	}
	t.Fatalf("no check %s", id)
	return nil
}

func TestChecksFailAndPass(t *testing.T) {
	drifted := DesiredPodDefault("bob")
	_ = unstructured.SetNestedField(drifted.Object, "Other text", "spec", "desc")
	s := checks.NewSnapshot().
		WithItems(ProfilesGVR, []unstructured.Unstructured{profileObj("alice"), profileObj("bob"), profileObj("carol"), profileObj("new")}).
		WithObjects(NamespacesGVR, labelled("alice"), labelled("bob"), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "carol"}}, labelled("kubeflow")).
		WithItems(PodDefaultsGVR, []unstructured.Unstructured{*DesiredPodDefault("alice"), *drifted})

	rs := run(t, "PROFILES-001", s)
	if len(rs) != 1 || rs[0].Severity == checks.OK || !strings.Contains(rs[0].Message, "new") {
		t.Errorf("PROFILES-001: %+v", rs)
	}
	rs = run(t, "PROFILES-002", s)
	msgs := ""
	for _, r := range rs {
		if r.Severity == checks.OK {
			t.Errorf("PROFILES-002 passed: %+v", r)
		}
		msgs += r.Message + "\n"
	}
	if !strings.Contains(msgs, `bob/access-ml-pipeline differs from the runbook's: spec.desc is "Other text", want "Allow access to Kubeflow Pipelines"`) || !strings.Contains(msgs, "have no PodDefault access-ml-pipeline: carol") {
		t.Errorf("PROFILES-002 messages:\n%s", msgs)
	}
	rs = run(t, "PROFILES-003", s)
	if len(rs) != 1 || rs[0].Severity == checks.OK || !strings.HasSuffix(rs[0].Message, ": carol") {
		t.Errorf("PROFILES-003: %+v", rs)
	}

	good := checks.NewSnapshot().
		WithItems(ProfilesGVR, []unstructured.Unstructured{profileObj("alice")}).
		WithObjects(NamespacesGVR, labelled("alice")).
		WithItems(PodDefaultsGVR, []unstructured.Unstructured{*DesiredPodDefault("alice")})
	for _, c := range Checks() {
		if rs := c.Run(good); len(rs) != 1 || rs[0].Severity != checks.OK {
			t.Errorf("%s on a good snapshot: %+v", c.ID, rs)
		}
	}

	absent := checks.NewSnapshot().WithNotServed(ProfilesGVR).WithNotServed(PodDefaultsGVR).WithObjects(NamespacesGVR)
	if rs := run(t, "PROFILES-002", absent); rs[0].Severity == checks.OK || !strings.Contains(rs[0].Message, notInstalled) {
		t.Errorf("without Kubeflow: %+v", rs)
	}
}

func TestSpecDifference(t *testing.T) {
	for _, tc := range []struct {
		edit func(spec map[string]any)
		want string
	}{
		{func(map[string]any) {}, ""},
		{func(s map[string]any) {
			s["volumes"].([]any)[0].(map[string]any)["projected"].(map[string]any)["sources"].([]any)[0].(map[string]any)["serviceAccountToken"].(map[string]any)["expirationSeconds"] = float64(3600)
		}, "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds is 3600, want 7200"},
		{func(s map[string]any) { s["env"] = []any{} }, "spec.env has 0 entries, want 1"},
		{func(s map[string]any) { delete(s, "volumeMounts") }, "spec.volumeMounts is missing, want a list of 1"},
		{func(s map[string]any) { s["serviceAccountName"] = "x" }, `spec.serviceAccountName is "x", the runbook's object has none`},
	} {
		o := DesiredPodDefault("ns")
		tc.edit(o.Object["spec"].(map[string]any))
		if got := SpecDifference(o); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
