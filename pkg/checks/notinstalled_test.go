package checks

import "testing"

func TestNotInstalledAsInfo(t *testing.T) {
	rs := []Result{
		{ID: "LB-001", Section: "lb", Severity: Error, Message: "no MetalLB controller found", Missing: true, Fix: "kubectl flexigrobots lb"},
		{ID: "LB-002", Section: "lb", Severity: Warn, Message: "pool missing"},
		{ID: "LB-006", Section: "lb", Severity: OK, Message: "strictARP fine"},
		{ID: "STORAGE-003", Section: "storage", Severity: Error, Message: "two default classes"},
	}
	got := NotInstalledAsInfo(rs)
	for i, want := range []struct {
		sev Severity
		msg string
	}{{Info, "not installed: no MetalLB controller found"}, {Info, "not installed: no MetalLB controller found"}, {OK, "strictARP fine"}, {Error, "two default classes"}} {
		if got[i].Severity != want.sev || got[i].Message != want.msg || got[i].ID != rs[i].ID {
			t.Errorf("result %d = %v %q (%s), want %v %q", i, got[i].Severity, got[i].Message, got[i].ID, want.sev, want.msg)
		}
	}
	if got[1].Fix != "kubectl flexigrobots lb" {
		t.Errorf("the not-installed note does not say how to install: %q", got[1].Fix)
	}
	if rs[0].Severity != Error {
		t.Error("the input was modified")
	}
}
