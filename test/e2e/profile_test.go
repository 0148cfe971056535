package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func init() { onKubeflowBed("profiles", testProfiles) }

// Every object of this suite is named with this prefix (the bed is shared with other suites).
const pd = "pd-e2e-"

// testProfiles runs `profile poddefault` against a real Kubeflow install: bad input changes
// nothing; --all-profiles gives the runbook's object to each profile namespace, leaves someone
// else's alone, skips a Profile without namespace and warns on a namespace without the webhook's
// label; re-runs move no resourceVersion; verify names a drifted field; --remove deletes only
// ours; --watch covers Profiles created later, across an API server restart, and stops on SIGTERM.
func testProfiles(t *testing.T, c *testbed.Cluster, kubeflowVersion string) {
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(c.Config)

	// The profile controller's effect, for this suite's Profiles only; pd-e2e-pending stays
	// without namespace (as when the controller has not got to it yet).
	pc := standins.NewProfileController()
	pc.PodSecurity = kubeflowVersion == "v1.10.2"
	pc.Only = func(name string) bool { return strings.HasPrefix(name, pd) && name != pd+"pending" }
	sctx, stopStandIn := context.WithCancel(ctx)
	standInDone := make(chan struct{})
	go func() { defer close(standInDone); _ = pc.Run(sctx, c) }()
	var profiles []string
	t.Cleanup(func() {
		stopStandIn()
		<-standInDone
		for _, p := range profiles { // the garbage collector deletes their namespaces
			_ = dyn.Resource(e2eProfilesGVR).Delete(ctx, p, metav1.DeleteOptions{})
		}
		for _, ns := range []string{pd + "orphan", pd + "nolabel"} {
			_ = c.Client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
		}
	})
	profile := func(name, owner string) {
		createProfile(t, dyn, name, owner)
		profiles = append(profiles, name)
	}

	// A namespace someone annotated for carol, with no Profile; a Profile whose namespace never comes.
	orphan := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pd + "orphan", Annotations: map[string]string{"owner": "carol@example.com"}}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, orphan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	profile(pd+"pending", "erin@example.com")

	t.Run("bad input changes nothing", func(t *testing.T) {
		before := podDefaultState(t, c, dyn)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{nil, "give NAMESPACE arguments"},
			{[]string{pd + "a", "--all-profiles"}, "not both"},
			{[]string{pd + "nope"}, `namespace "` + pd + `nope" does not exist`},
			{[]string{"kubeflow"}, `namespace "kubeflow" is not a profile's namespace`},
			{[]string{pd + "orphan"}, "owner=carol@example.com"},
			{[]string{pd + "pending"}, "does not exist yet"},
			{[]string{"--watch", pd + "orphan"}, "use it with --all-profiles"},
			{[]string{"--all-profiles", "--watch", "--remove"}, "cannot be combined"},
		} {
			r := runPlugin(t, c, append([]string{"profile", "poddefault"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v: want exit 2 saying %q, got %d: %s", tc.args, tc.want, r.code, r.stderr)
			}
		}
		if after := podDefaultState(t, c, dyn); !maps.Equal(before, after) {
			t.Fatalf("bad input changed the cluster:\n%v\n%v", before, after)
		}
	})

	// Three users' Profiles (namespaces by the stand-in), one whose namespace an admin made
	// before (no labels: adopted without the webhook's label), and one where someone else already
	// applied the runbook's file by hand.
	for _, p := range []string{"a", "b", "c"} {
		profile(pd+p, p+"@example.com")
	}
	bare := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: pd + "nolabel"}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, bare, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	profile(pd+"nolabel", "dave@example.com")
	profile(pd+"byhand", "frank@example.com")
	for p, owner := range map[string]string{"a": "a@example.com", "b": "b@example.com", "c": "c@example.com", "byhand": "frank@example.com"} {
		ns := waitNamespace(t, c, pd+p)
		if ns.Labels["app.kubernetes.io/part-of"] != "kubeflow-profile" || ns.Annotations["owner"] != owner || len(ns.OwnerReferences) != 1 {
			t.Fatalf("stand-in namespace %s: labels %v annotations %v owners %v", ns.Name, ns.Labels, ns.Annotations, ns.OwnerReferences)
		}
	}
	byHand := runbookPodDefaultIn(t, pd+"byhand")
	if _, err := dyn.Resource(e2ePodDefaultsGVR).Namespace(pd+"byhand").Create(ctx, byHand, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	ours := []string{pd + "a", pd + "b", pd + "c", pd + "nolabel"}

	t.Run("a bad namespace among good ones changes nothing", func(t *testing.T) {
		r := runPlugin(t, c, "profile", "poddefault", pd+"a", pd+"nope")
		if r.code != 2 || getPodDefault(t, dyn, pd+"a", "access-ml-pipeline") != nil {
			t.Fatalf("want exit 2 and no PodDefault in %sa, got %d", pd, r.code)
		}
		for _, mode := range []string{"server", "client"} {
			// -o yaml on a dry run prints the objects it would send, as kubectl does.
			r := runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--dry-run="+mode, "-o", "yaml")
			if r.code != 0 || getPodDefault(t, dyn, pd+"a", "access-ml-pipeline") != nil {
				t.Fatalf("--dry-run=%s: exit %d (or it persisted)", mode, r.code)
			}
			sent := listedObjects(t, r.stdout)
			for _, ns := range ours {
				if !sent["PodDefault/"+ns+"/access-ml-pipeline"] {
					t.Errorf("--dry-run=%s -o yaml: no PodDefault for %s in %v", mode, ns, sent)
				}
			}
			if sent["PodDefault/"+pd+"byhand/access-ml-pipeline"] {
				t.Errorf("--dry-run=%s -o yaml: the hand-made PodDefault, which is left alone, is listed as sent", mode)
			}
		}
	})

	// First run: created in our four namespaces, the hand-made one left, the pending Profile noted
	// (--wait=false: its namespace never comes on this bed, so no grace for the controller).
	r := runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--wait=false", "-o", "json")
	rep := kfReport(t, r)
	if r.code != 0 {
		t.Fatalf("--all-profiles: exit %d", r.code)
	}
	if got := pdResults(rep, output.Created); !reflect.DeepEqual(got, ours) {
		t.Fatalf("created in %v, want %v", got, ours)
	}
	if got := pdResults(rep, output.Unchanged); !reflect.DeepEqual(got, []string{pd + "byhand"}) {
		t.Fatalf("unchanged %v, want the hand-made one only", got)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "Profile "+pd+"pending: skipped") {
		t.Errorf("no note on the Profile without namespace: %v", rep.Notes)
	}
	if !strings.Contains(r.stderr, "namespace "+pd+"nolabel lacks the label app.kubernetes.io/part-of=kubeflow-profile") {
		t.Errorf("no warning on the namespace without the webhook's label")
	}
	if strings.Contains(r.stderr, "namespace "+pd+"a lacks") {
		t.Errorf("warned on a labelled namespace")
	}
	for _, ns := range ours {
		live := getPodDefault(t, dyn, ns, "access-ml-pipeline")
		want := runbookPodDefaultIn(t, ns)
		if !reflect.DeepEqual(jsonOf(t, live.Object["spec"]), jsonOf(t, want.Object["spec"])) {
			t.Errorf("%s: spec differs from the runbook's:\n%s\nwant\n%s", ns, jsonOf(t, live.Object["spec"]), jsonOf(t, want.Object["spec"]))
		}
		if live.GetLabels()["app.kubernetes.io/managed-by"] != "kubectl-flexigrobots" {
			t.Errorf("%s: labels %v", ns, live.GetLabels())
		}
	}
	if l := getPodDefault(t, dyn, pd+"byhand", "access-ml-pipeline"); l.GetLabels()["app.kubernetes.io/managed-by"] != "" {
		t.Errorf("the hand-made PodDefault was taken over: %v", l.GetLabels())
	}

	t.Run("re-runs change nothing", func(t *testing.T) {
		state := podDefaultState(t, c, dyn)
		r := runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--wait=false")
		for _, ns := range ours {
			line := "poddefault.kubeflow.org/access-ml-pipeline unchanged [namespace " + ns + "]"
			if !strings.Contains(r.stdout, line+"\n") {
				t.Errorf("no line %q", line)
			}
		}
		r2 := runPlugin(t, c, "profile", "poddefault", pd+"a", pd+"b", "-o", "json")
		if got := pdResults(kfReport(t, r2), output.Unchanged); r.code != 0 || r2.code != 0 || !reflect.DeepEqual(got, []string{pd + "a", pd + "b"}) {
			t.Errorf("exit %d/%d, unchanged %v", r.code, r2.code, got)
		}
		if again := podDefaultState(t, c, dyn); !maps.Equal(state, again) {
			t.Fatalf("a re-run moved resourceVersions:\n%v\n%v", state, again)
		}
	})

	t.Run("verify names the drifted field and the fix restores it", func(t *testing.T) {
		drifted := getPodDefault(t, dyn, pd+"b", "access-ml-pipeline")
		srcs, _, _ := unstructured.NestedSlice(drifted.Object, "spec", "volumes")
		vol := srcs[0].(map[string]any)
		vol["projected"].(map[string]any)["sources"].([]any)[0].(map[string]any)["serviceAccountToken"].(map[string]any)["expirationSeconds"] = int64(3600)
		_ = unstructured.SetNestedSlice(drifted.Object, srcs, "spec", "volumes")
		if _, err := dyn.Resource(e2ePodDefaultsGVR).Namespace(pd+"b").Update(ctx, drifted, metav1.UpdateOptions{FieldManager: "someone"}); err != nil {
			t.Fatal(err)
		}
		res := verifyProfiles(t, c)
		if x := res["PROFILES-002"]; x.Severity != checks.Error || !strings.Contains(x.Message, pd+"b/access-ml-pipeline") || !strings.Contains(x.Message, "expirationSeconds is 3600, want 7200") {
			t.Errorf("PROFILES-002: %+v", x)
		}
		r := runPlugin(t, c, "profile", "poddefault", pd+"b", "-o", "json")
		if got := pdResults(kfReport(t, r), output.Configured); !reflect.DeepEqual(got, []string{pd + "b"}) {
			t.Fatalf("configured %v, want %sb", got, pd)
		}
		res = verifyProfiles(t, c)
		if x := res["PROFILES-002"]; x.Severity != checks.OK {
			t.Errorf("PROFILES-002 after the fix: %+v", x)
		}
		if x := res["PROFILES-001"]; x.Severity != checks.Error || !strings.Contains(x.Message, pd+"pending") {
			t.Errorf("PROFILES-001 (a Profile without namespace): %+v", x)
		}
		if x := res["PROFILES-003"]; x.Severity != checks.Warn || !strings.HasSuffix(x.Message, ": "+pd+"nolabel") {
			t.Errorf("PROFILES-003: %+v", x)
		}
	})

	t.Run("remove deletes only ours", func(t *testing.T) {
		other := runbookPodDefaultIn(t, pd+"c")
		other.SetName("gpu-defaults")
		if _, err := dyn.Resource(e2ePodDefaultsGVR).Namespace(pd+"c").Create(ctx, other, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		r := runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--remove", "--dry-run=server")
		if r.code != 0 || getPodDefault(t, dyn, pd+"a", "access-ml-pipeline") == nil {
			t.Fatalf("--remove --dry-run=server: exit %d or it deleted", r.code)
		}
		r = runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--remove", "-o", "json")
		rep := kfReport(t, r)
		if got := pdResults(rep, output.Deleted); r.code != 0 || !reflect.DeepEqual(got, ours) {
			t.Fatalf("exit %d, deleted %v, want %v", r.code, got, ours)
		}
		for _, ns := range ours {
			if getPodDefault(t, dyn, ns, "access-ml-pipeline") != nil {
				t.Errorf("%s: still there", ns)
			}
		}
		if getPodDefault(t, dyn, pd+"byhand", "access-ml-pipeline") == nil || getPodDefault(t, dyn, pd+"c", "gpu-defaults") == nil {
			t.Fatal("--remove deleted a PodDefault someone else made")
		}
		r = runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--remove", "-o", "json")
		if got := pdResults(kfReport(t, r), output.Deleted); r.code != 0 || len(got) != 0 {
			t.Fatalf("second --remove: exit %d, deleted %v", r.code, got)
		}
	})

	t.Run("watch covers new profiles across an API server restart", func(t *testing.T) {
		w := startPlugin(t, c, "profile", "poddefault", "--all-profiles", "--watch")
		w.waitOutput(t, "watching Profiles and namespaces", 30*time.Second)
		for _, ns := range ours { // the first pass covers the existing ones again
			waitPodDefault(t, dyn, ns, "access-ml-pipeline", 30*time.Second)
		}
		profile(pd+"w1", "grace@example.com")
		took := waitPodDefault(t, dyn, pd+"w1", "access-ml-pipeline", 15*time.Second)
		t.Logf("Profile %sw1 covered %s after it was created", pd, took.Round(time.Millisecond))

		c.KillAPIServer()
		time.Sleep(2 * time.Second)
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := c.StartAPIServer(rctx); err != nil {
			t.Fatal(err)
		}
		profile(pd+"w2", "heidi@example.com")
		took = waitPodDefault(t, dyn, pd+"w2", "access-ml-pipeline", 90*time.Second)
		t.Logf("Profile %sw2, created after the API server restart, covered %s later", pd, took.Round(time.Millisecond))
		if code := w.stop(t); code != 0 {
			t.Fatalf("watch exited %d on SIGTERM", code)
		}
		for _, ns := range []string{pd + "w1", pd + "w2"} {
			if line := "poddefault.kubeflow.org/access-ml-pipeline created [namespace " + ns + "]"; !strings.Contains(w.stdout.String(), line) {
				t.Errorf("watch printed no %q", line)
			}
		}
		if !strings.Contains(w.stderr.String(), "stopped watching") {
			t.Errorf("no clean stop on SIGTERM")
		}

		// A Profile made while no watcher runs is covered by the next one's first pass; the
		// namespaces covered before stay unchanged; Ctrl-C (SIGINT) stops it cleanly too.
		profile(pd+"w3", "ivan@example.com")
		waitNamespace(t, c, pd+"w3")
		state := podDefaultState(t, c, dyn)
		w = startPlugin(t, c, "profile", "poddefault", "--all-profiles", "--watch")
		waitPodDefault(t, dyn, pd+"w3", "access-ml-pipeline", 30*time.Second)
		w.waitOutput(t, "[namespace "+pd+"w2]", 30*time.Second)
		if code := w.stopWith(t, syscall.SIGINT); code != 0 {
			t.Fatalf("watch exited %d on SIGINT", code)
		}
		if !strings.Contains(w.stdout.String(), "poddefault.kubeflow.org/access-ml-pipeline created [namespace "+pd+"w3]") {
			t.Errorf("the restarted watch did not cover %sw3", pd)
		}
		after := podDefaultState(t, c, dyn)
		for k, v := range state {
			if after[k] != v {
				t.Errorf("the restarted watch moved %s: %s -> %s", k, v, after[k])
			}
		}
		for _, ns := range append(ours, pd+"w1", pd+"w2") {
			if line := "poddefault.kubeflow.org/access-ml-pipeline unchanged [namespace " + ns + "]"; !strings.Contains(w.stdout.String(), line) {
				t.Errorf("restarted watch: no %q", line)
			}
		}
	})
}

// pdResults lists, sorted as reported, the namespaces of this suite whose PodDefault result has action.
func pdResults(rep output.Report, action string) []string {
	var out []string
	for _, x := range rep.Results {
		if x.Action == action && strings.HasPrefix(x.Namespace, pd) && x.Name == "access-ml-pipeline" {
			out = append(out, x.Namespace)
		}
	}
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// verifyProfiles runs `verify --section profiles` and returns the worst result per check ID.
func verifyProfiles(t *testing.T, c *testbed.Cluster) map[string]checks.Result {
	t.Helper()
	r := runPlugin(t, c, "verify", "--section", "profiles", "-o", "json")
	var rep verify.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("verify output: %v", err)
	}
	out := map[string]checks.Result{}
	for _, x := range rep.Results {
		if prev, ok := out[x.ID]; !ok || x.Severity > prev.Severity {
			out[x.ID] = x
		}
	}
	if len(out) != 3 {
		t.Fatalf("want PROFILES-001..003, got %v", out)
	}
	return out
}

// TestProfilePodDefaultWithoutKubeflow: on a cluster without Kubeflow, the command exits 2 with
// the way out and changes nothing.
func TestProfilePodDefaultWithoutKubeflow(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{})
	before := namespaceNames(t, c)
	for _, args := range [][]string{{"--all-profiles"}, {"default"}, {"--all-profiles", "--remove"}} {
		r := runPlugin(t, c, append([]string{"profile", "poddefault"}, args...)...)
		if want := "Kubeflow is not installed (run `kubectl flexigrobots kubeflow`)"; r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("%v: want exit 2 saying %q, got %d", args, want, r.code)
		}
	}
	if after := namespaceNames(t, c); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("namespaces changed: %v -> %v", before, after)
	}
}
