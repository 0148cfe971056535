package checks

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestUnreachableServerIsReportedOnce: with no answer from the API server, the check that reads
// the server says so, and the checks that need the cluster's objects are skipped as notes instead
// of failing with the same cause again.
func TestUnreachableServerIsReportedOnce(t *testing.T) {
	down := errors.New("API server https://127.0.0.1:1 not reachable: connection refused")
	s := NewSnapshot().WithServer("https://127.0.0.1:1", nil, down)
	nodes := schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	s.WithListError(nodes, down)
	cs := []Check{
		{ID: "CLUSTER-001", Section: "cluster", Title: "reachable", Severity: Error, Run: func(s *Snapshot) []Result {
			if s.ServerErr != nil {
				return []Result{Fail(s.ServerErr.Error(), "check the kubeconfig")}
			}
			return []Result{Pass("ok")}
		}},
		{ID: "CLUSTER-002", Section: "cluster", Title: "nodes", Severity: Error, Resources: []schema.GroupVersionResource{nodes}, Run: func(s *Snapshot) []Result {
			if _, err := s.List(nodes); err != nil {
				return []Result{CannotEvaluate(err, "")}
			}
			return []Result{Pass("ok")}
		}},
	}
	rs := Evaluate(s, cs)
	if len(rs) != 2 || rs[0].Severity != Error || rs[1].Severity != Info || rs[1].Message != "skipped: the API server is not reachable (see CLUSTER-001)" {
		t.Fatalf("results: %+v", rs)
	}
	if sum := Summarize(rs); sum.Error != 1 {
		t.Fatalf("want the unreachable server counted once, got %+v", sum)
	}
	// With the server up, the same check runs.
	up := NewSnapshot().WithServer("https://127.0.0.1:6443", nil, nil)
	up.WithItems(nodes, nil)
	if rs := Evaluate(up, cs[1:]); rs[0].Severity != OK {
		t.Fatalf("with the server up: %+v", rs)
	}
}
