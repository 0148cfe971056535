package checks

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

var podsGVR = corev1.SchemeGroupVersion.WithResource("pods")

func check(id, section string, run func(*Snapshot) []Result) Check {
	return Check{ID: id, Section: section, Title: "title of " + id, Severity: Warn, Run: run}
}

func TestRegistrySectionsAndValidation(t *testing.T) {
	r := NewRegistry()
	r.Register(check("CLUSTER-001", "cluster", func(*Snapshot) []Result { return nil }),
		check("LB-001", "lb", func(*Snapshot) []Result { return nil }),
		check("CLUSTER-002", "cluster", func(*Snapshot) []Result { return nil }))
	if got := strings.Join(r.Sections(), ","); got != "cluster,lb" {
		t.Errorf("sections = %s, want registration order cluster,lb", got)
	}
	cs, err := r.ForSections("cluster")
	if err != nil || len(cs) != 2 || cs[0].ID != "CLUSTER-001" || cs[1].ID != "CLUSTER-002" {
		t.Errorf("ForSections(cluster) = %v, %v", cs, err)
	}
	if cs, _ := r.ForSections(); len(cs) != 3 {
		t.Errorf("ForSections() = %d checks, want all 3", len(cs))
	}
	if _, err := r.ForSections("cluster", "gpu"); err == nil || !strings.Contains(err.Error(), `unknown section "gpu": use one of cluster, lb`) {
		t.Errorf("unknown section error = %v", err)
	}
	for name, bad := range map[string]Check{
		"duplicate ID": check("LB-001", "lb", func(*Snapshot) []Result { return nil }),
		"malformed ID": check("lb1", "lb", func(*Snapshot) []Result { return nil }),
		"no Run":       check("LB-002", "lb", nil),
		"no severity":  {ID: "LB-003", Section: "lb", Title: "t", Run: func(*Snapshot) []Result { return nil }},
		"bad probe":    {ID: "LB-004", Section: "lb", Title: "t", Severity: Error, Probes: []Probe{{Name: "x"}}, Run: func(*Snapshot) []Result { return nil }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Register did not panic", name)
				}
			}()
			r.Register(bad)
		}()
	}
}

func TestEvaluateFillsLabelsAndSurvivesPanics(t *testing.T) {
	cs := []Check{
		check("A-001", "a", func(*Snapshot) []Result { return []Result{Fail("broken", "fix it")} }),
		check("A-002", "a", func(*Snapshot) []Result { panic("boom") }),
		check("A-003", "a", func(*Snapshot) []Result { return nil }),
		check("A-004", "a", func(*Snapshot) []Result { return []Result{Note("fyi", "")} }),
	}
	rs := Evaluate(NewSnapshot(), cs)
	if len(rs) != 4 {
		t.Fatalf("want 4 results, got %+v", rs)
	}
	if rs[0].ID != "A-001" || rs[0].Section != "a" || rs[0].Title != "title of A-001" || rs[0].Severity != Warn {
		t.Errorf("Fail must take the check's labels and severity: %+v", rs[0])
	}
	if rs[1].Severity != Error || !strings.Contains(rs[1].Message, "cannot evaluate: check panicked: boom") {
		t.Errorf("panic: %+v", rs[1])
	}
	if rs[2].Severity != OK || rs[3].Severity != Info {
		t.Errorf("empty -> OK, Note -> Info: %+v %+v", rs[2], rs[3])
	}
	s := Summarize(rs)
	if s.Total != 4 || s.OK != 1 || s.Info != 1 || s.Warn != 1 || s.Error != 1 || s.Worst != Error {
		t.Errorf("summary %+v", s)
	}
}

func TestSnapshotListsAndProbes(t *testing.T) {
	metallb := schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}
	s := NewSnapshot().
		WithObjects(podsGVR, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}).
		WithNotServed(metallb).
		WithProbe("answer", 42, nil)

	pods, err := ListAs[corev1.Pod](s, podsGVR)
	if err != nil || len(pods) != 1 || pods[0].Name != "p" || pods[0].Status.Phase != corev1.PodRunning {
		t.Fatalf("ListAs pods = %+v, %v", pods, err)
	}
	if _, err := s.List(metallb); !IsNotServed(err) || !strings.Contains(err.Error(), "ipaddresspools.metallb.io (v1beta1) is not served") {
		t.Errorf("not served: %v", err)
	}
	if _, err := s.List(corev1.SchemeGroupVersion.WithResource("nodes")); err == nil || !strings.Contains(err.Error(), "declare it in the check's Resources") {
		t.Errorf("undeclared type: %v", err)
	}
	if v, err := ProbeAs[int](s, "answer"); err != nil || v != 42 {
		t.Errorf("ProbeAs = %v, %v", v, err)
	}
	if _, err := ProbeAs[string](s, "answer"); err == nil {
		t.Error("ProbeAs with the wrong type must fail")
	}
	if _, err := s.Probe("other"); err == nil || !strings.Contains(err.Error(), "declare it in the check's Probes") {
		t.Errorf("undeclared probe: %v", err)
	}
	s.WithListError(podsGVR, errors.New("forbidden"))
	if _, err := ListAs[corev1.Pod](s, podsGVR); err == nil || err.Error() != "forbidden" {
		t.Errorf("list error: %v", err)
	}
}

func TestSeverityEncodesAsName(t *testing.T) {
	r := Result{ID: "A-001", Severity: Warn, Message: "m"}
	b, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(b), `"severity":"warn"`) {
		t.Fatalf("json %s, %v", b, err)
	}
	var back Result
	if err := yaml.Unmarshal(b, &back); err != nil || back.Severity != Warn {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if !(OK < Info && Info < Warn && Warn < Error) {
		t.Error("severities out of order")
	}
}

func TestListAsConvertsOncePerSnapshotAndType(t *testing.T) {
	s := NewSnapshot().WithObjects(podsGVR, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}})
	first, err := ListAs[corev1.Pod](s, podsGVR)
	if err != nil || len(first) != 1 {
		t.Fatalf("ListAs = %+v, %v", first, err)
	}
	first[0] = corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "changed by a caller"}}
	items, _ := s.List(podsGVR)
	items[0].SetName("renamed after the conversion")
	again, err := ListAs[corev1.Pod](s, podsGVR)
	if err != nil || len(again) != 1 || again[0].Name != "p" {
		t.Fatalf("second ListAs = %+v, %v: want the first conversion, unaffected by the caller's slice", again, err)
	}
	if metas, err := ListAs[metav1.PartialObjectMetadata](s, podsGVR); err != nil || metas[0].Name != "renamed after the conversion" {
		t.Fatalf("another type converts on its own: %+v, %v", metas, err)
	}
	s.WithObjects(podsGVR, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "q"}})
	if fresh, err := ListAs[corev1.Pod](s, podsGVR); err != nil || fresh[0].Name != "q" {
		t.Fatalf("after the list was recorded anew: %+v, %v", fresh, err)
	}
}
