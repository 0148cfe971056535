package kube

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

var clusterRoles = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}

func clusterRoleMeta(name, uid, manager string, lbls map[string]string) *metav1.PartialObjectMetadata {
	md := &metav1.PartialObjectMetadata{
		TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid), Labels: lbls},
	}
	if manager != "" {
		md.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: manager, Operation: metav1.ManagedFieldsOperationApply}}
	}
	return md
}

// TestKeepGone: what the cluster creates again under a deleted name is deleted again, up to
// maxRedeletes times, then named in a warning with its manager; what an apply made on purpose
// (an ApplySet member), and what is still the deleted object (terminating), stay untouched.
func TestKeepGone(t *testing.T) {
	settle, every := recheckSettle, recheckEvery
	recheckSettle, recheckEvery = 150*time.Millisecond, 10*time.Millisecond
	defer func() { recheckSettle, recheckEvery = settle, every }()

	scheme := runtime.NewScheme()
	if err := metav1.AddMetaToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	const ctrl = "clusterrole-aggregation-controller"
	md := metadatafake.NewSimpleMetadataClient(scheme,
		clusterRoleMeta("once", "new-once", ctrl, nil),
		clusterRoleMeta("always", "new-always-0", ctrl, nil),
		clusterRoleMeta("applied", "new-applied", "someone", map[string]string{kubectlapply.ApplysetPartOfLabel: "applyset-x"}),
		clusterRoleMeta("terminating", "old-terminating", FieldManager, nil),
	)
	// The controller creates "always" again after each deletion.
	var mu sync.Mutex
	deletes := map[string]int{}
	md.PrependReactor("delete", "clusterroles", func(action k8stesting.Action) (bool, runtime.Object, error) {
		name := action.(k8stesting.DeleteAction).GetName()
		mu.Lock()
		deletes[name]++
		n := deletes[name]
		mu.Unlock()
		if err := md.Tracker().Delete(clusterRoles, "", name); err != nil {
			return true, nil, err
		}
		if name == "always" {
			return true, nil, md.Tracker().Add(clusterRoleMeta(name, fmt.Sprintf("new-always-%d", n), ctrl, nil))
		}
		return true, nil, nil
	})
	var log bytes.Buffer
	a := &Applier{Clients: &Clients{Metadata: md}, Section: "test", Progress: output.NewProgress(&log)}
	var deleted []prunable
	for _, n := range []string{"once", "always", "applied", "terminating", "gone"} {
		deleted = append(deleted, prunable{ref: "ClusterRole/" + n, kind: "ClusterRole", gvr: clusterRoles, name: n, uid: types.UID("old-" + n)})
	}
	a.keepGone(context.Background(), deleted)

	if deletes["once"] != 1 || deletes["always"] != maxRedeletes || deletes["applied"] != 0 || deletes["terminating"] != 0 {
		t.Errorf("deletes %v: want once 1, always %d, applied and terminating none", deletes, maxRedeletes)
	}
	out := log.String()
	for _, want := range []string{
		"test: ClusterRole/once was created again by the cluster (" + ctrl + ") after its deletion: deleted again",
		"warning: test: ClusterRole/always was created again by the cluster (" + ctrl + ") after it was deleted 4 times: left in place",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "applied") || strings.Contains(out, "terminating") {
		t.Errorf("output names an object that was not created again by the cluster:\n%s", out)
	}
}

// A dry run deleted nothing: nothing is read.
func TestKeepGoneDryRun(t *testing.T) {
	md := metadatafake.NewSimpleMetadataClient(runtime.NewScheme())
	a := &Applier{Clients: &Clients{Metadata: md}, DryRun: "server"}
	a.keepGone(context.Background(), []prunable{{ref: "ClusterRole/x", kind: "ClusterRole", gvr: clusterRoles, name: "x", uid: "u"}})
	if n := len(md.Actions()); n != 0 {
		t.Errorf("%d requests on a dry run, want none", n)
	}
}
