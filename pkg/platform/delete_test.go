package platform

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// fakeRemovable is a fakeSection that can be uninstalled: it records the order of uninstalls.
type fakeRemovable struct {
	fakeSection
	uninstallErr error
	order        *[]string
	mu           *sync.Mutex
	got          section.UninstallOptions
}

func (f *fakeRemovable) Uninstall(_ context.Context, _ *section.Run, _ section.Spec, o section.UninstallOptions) (*output.Report, error) {
	f.mu.Lock()
	*f.order = append(*f.order, f.name)
	f.mu.Unlock()
	f.got = o
	action := output.Unchanged
	if f.changed {
		action = output.Deleted
	}
	return &output.Report{Results: []output.Result{{Kind: "ConfigMap", Name: f.name, Action: action}}}, f.uninstallErr
}

func platformFakes(order *[]string, mu *sync.Mutex) map[string]*fakeRemovable {
	mk := func(name string, needs ...string) *fakeRemovable {
		return &fakeRemovable{fakeSection: fakeSection{name: name, needs: needs, changed: true, ran: &ranLog{}}, order: order, mu: mu}
	}
	return map[string]*fakeRemovable{
		"storage": mk("storage"), "lb": mk("lb"), "kubeflow": mk("kubeflow", "storage", "lb"),
		"tls": mk("tls", "kubeflow"), "profiles": mk("profiles", "kubeflow"), "gpu": mk("gpu"),
	}
}

func inOrder(m map[string]*fakeRemovable) []Block {
	var out []section.Section
	for _, n := range Order() {
		out = append(out, m[n])
	}
	return blocks(out...)
}

func TestDeleteRunsInReverseOfNeeds(t *testing.T) {
	var order []string
	mu := &sync.Mutex{}
	fakes := platformFakes(&order, mu)
	r := &section.Run{Progress: output.NewProgress(&bytes.Buffer{}), DryRun: core.DryRunNone}
	sum, err := Delete(context.Background(), &Platform{Path: "p.yaml"}, inOrder(fakes), r, section.UninstallOptions{DeleteData: true})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	for _, before := range [][2]string{{"tls", "kubeflow"}, {"profiles", "kubeflow"}, {"kubeflow", "storage"}, {"kubeflow", "lb"}} {
		if pos[before[0]] > pos[before[1]] {
			t.Errorf("%s was deleted after %s: %v", before[0], before[1], order)
		}
	}
	if len(order) != 6 || !fakes["kubeflow"].got.DeleteData {
		t.Errorf("every section once, with the options: %v %+v", order, fakes["kubeflow"].got)
	}
	for _, o := range sum.Sections {
		if o.Result != Deleted {
			t.Errorf("%s: %s, want %s", o.Section, o.Result, Deleted)
		}
	}
}

func TestDeleteKeepsWhatAFailedDependentStillNeeds(t *testing.T) {
	var order []string
	mu := &sync.Mutex{}
	fakes := platformFakes(&order, mu)
	fakes["tls"].uninstallErr = errors.New("gateway conflict")
	fakes["gpu"].changed = false
	r := &section.Run{Progress: output.NewProgress(&bytes.Buffer{}), DryRun: core.DryRunNone}
	sum, err := Delete(context.Background(), &Platform{Path: "p.yaml"}, inOrder(fakes), r, section.UninstallOptions{})
	if err == nil || !strings.Contains(err.Error(), "tls: gateway conflict") {
		t.Fatalf("want the failure in the error, got %v", err)
	}
	got := map[string]string{}
	for _, o := range sum.Sections {
		got[o.Section] = o.Result + "|" + o.Reason
	}
	want := map[string]string{
		"tls": "failed|gateway conflict", "profiles": "deleted|", "gpu": "unchanged|",
		"kubeflow": "skipped|comes after tls, which failed", "storage": "skipped|comes after kubeflow, which was skipped",
		"lb": "skipped|comes after kubeflow, which was skipped",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}
