package kube_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// handMade is what a person made by hand: each object created with kubectl's field manager
// for client-side apply (operation Update), the way `kubectl apply` without --server-side
// records it. The RoleBinding's subject and the webhook's rules leave fields for the server to
// default inside atomic lists (a User subject's apiGroup, a rule's scope), so a server-side apply
// of the very same manifest conflicts on them although nothing would change.
const handMade = `
apiVersion: v1
kind: Namespace
metadata: {name: adopt}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: adopt}
data: {a: "1", b: "2"}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewers, namespace: adopt}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects:
- {kind: User, name: alice}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: adopt-example}
webhooks:
- name: check.adopt.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig: {service: {name: nothing, namespace: adopt, port: 443}}
  rules:
  - {apiGroups: [adopt.example.com], apiVersions: [v1], operations: [CREATE], resources: [things]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: edited, namespace: adopt}
data: {config: "edited by hand"}
`

// TestAdoptHandMadeObjects (apiserver-only beds, 1.21 and 1.37): a set whose objects were made
// by hand is taken over without --force-conflicts where the values agree (the atomic lists'
// defaulted fields included), but one field set by hand to another value stops the whole apply
// before any write, naming the field, the manager and both values (exit 2). With ForceConflicts
// it converges; the hand tool no longer co-owns the fields the plugin applies (fields only it set
// stay its own); the re-run (a second later, as the record-keeping sections run) is unchanged
// and moves no resourceVersion.
func TestAdoptHandMadeObjects(t *testing.T) {
	for _, v := range []string{testbed.V121, testbed.V137} {
		t.Run(v, func(t *testing.T) {
			c := testbed.StartT(t, testbed.Options{Version: v, APIServerOnly: true})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cl := clientsFor(t, c)
			hand := decode(t, handMade)
			for _, o := range hand {
				createAs(ctx, t, cl, o, "kubectl-client-side-apply")
			}
			// A label only the hand tool set, on an object the plugin applies: it stays the tool's.
			labelAs(ctx, t, cl, "adopt", "same", "team", "ml", "kubectl-label")

			want := decode(t, strings.Replace(handMade, "edited by hand", "from the file", 1))
			before := resourceVersions(t, cl, want)
			apply := func(force bool) error {
				_, err := (&kube.Applier{Clients: cl, Section: "adopttest", ForceConflicts: force}).Apply(ctx, decode(t, strings.Replace(handMade, "edited by hand", "from the file", 1)))
				return err
			}
			err := apply(false)
			var ae *kube.AdoptionError
			if !errors.As(err, &ae) || core.ExitCode(err) != core.ExitUsage {
				t.Fatalf("an object edited by hand: want an AdoptionError with exit 2, got %v", err)
			}
			if len(ae.Conflicts) != 1 || ae.Conflicts[0].Ref != "ConfigMap adopt/edited" || ae.Conflicts[0].Field != ".data.config" ||
				ae.Conflicts[0].Manager != "kubectl-client-side-apply" || !strings.Contains(err.Error(), `live "edited by hand", wanted "from the file"`) ||
				!strings.Contains(err.Error(), "--force-conflicts") {
				t.Fatalf("adoption conflicts: %+v\n%v", ae.Conflicts, err)
			}
			if after := resourceVersions(t, cl, want); !maps.Equal(before, after) {
				t.Fatalf("the refused apply wrote: %v -> %v", before, after)
			}

			if err := apply(true); err != nil {
				t.Fatalf("with --force-conflicts: %v", err)
			}
			same := get(ctx, t, cl, "v1", "configmaps", "adopt", "same")
			if same.GetLabels()["team"] != "ml" {
				t.Errorf("the hand-set label went: %v", same.GetLabels())
			}
			for _, e := range same.GetManagedFields() {
				fields := string(e.FieldsV1.Raw)
				switch e.Manager {
				case "kubectl-client-side-apply":
					if strings.Contains(fields, `"f:a"`) || strings.Contains(fields, `"f:b"`) {
						t.Errorf("kubectl-client-side-apply still co-owns data's keys: %s", fields)
					}
				case "kubectl-label":
					if !strings.Contains(fields, `"f:team"`) {
						t.Errorf("kubectl-label lost its own label: %s", fields)
					}
				case kube.FieldManager:
					if !strings.Contains(fields, `"f:a"`) {
						t.Errorf("%s does not own data.a: %s", kube.FieldManager, fields)
					}
				}
			}
			if d, _, _ := unstructured.NestedString(get(ctx, t, cl, "v1", "configmaps", "adopt", "edited").Object, "data", "config"); d != "from the file" {
				t.Errorf("edited ConfigMap holds %q after the forced apply", d)
			}

			// The re-run: nothing to adopt, nothing changes. It runs as the sections that apply
			// such objects do (SkipUnchanged; the forced apply above kept no record, so each object
			// goes through the dry-run guard): Kubernetes 1.21 writes on a plain re-apply of an
			// object whose atomic list holds a server-defaulted field (a User subject's apiGroup, a
			// rule's scope) once the managedFields' one-second timestamp has moved on, so the
			// re-run waits a second to show it is the guard, not the clock, that keeps it unchanged.
			settled := resourceVersions(t, cl, want)
			time.Sleep(1100 * time.Millisecond)
			rep, err := (&kube.Applier{Clients: cl, Section: "adopttest", SkipUnchanged: true}).Apply(ctx, decode(t, strings.Replace(handMade, "edited by hand", "from the file", 1)))
			if err != nil || actions(rep)["unchanged"] != len(want) {
				t.Fatalf("re-run: %v %v", actions(rep), err)
			}
			if after := resourceVersions(t, cl, want); !maps.Equal(settled, after) {
				t.Fatalf("the re-run moved resourceVersions: %v -> %v", settled, after)
			}
		})
	}
}

// TestAdoptWithoutConflicts: hand-made objects whose values all agree with the set are adopted
// by a plain apply (no force): each result says from which tool, the defaulted atomic lists do
// not stop it, and the re-run is unchanged.
func TestAdoptWithoutConflicts(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Version: testbed.V137, APIServerOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := clientsFor(t, c)
	for _, o := range decode(t, handMade) {
		createAs(ctx, t, cl, o, "kubectl-client-side-apply")
	}
	// What makes this more than a plain apply: the server itself calls the same manifests
	// conflicting, on the lists whose items it defaulted.
	for _, o := range decode(t, handMade) {
		if o.GetKind() != "RoleBinding" && o.GetKind() != "ValidatingWebhookConfiguration" {
			continue
		}
		_, err := resourceFor(t, cl, o).Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: kube.FieldManager, DryRun: []string{metav1.DryRunAll}})
		if !apierrors.IsConflict(err) {
			t.Fatalf("%s: a plain server-side apply of the hand-made manifest: want a conflict, got %v", kube.Ref(o), err)
		}
		t.Logf("%s: the server says %v", kube.Ref(o), err)
	}
	rep, err := (&kube.Applier{Clients: cl, Section: "adopttest"}).Apply(ctx, decode(t, handMade))
	if err != nil {
		t.Fatalf("adopting objects whose values agree: %v", err)
	}
	for _, r := range rep.Results {
		if r.Detail != "adopted from kubectl-client-side-apply" {
			t.Errorf("%s %s/%s: %s (%q), want adopted", r.Kind, r.Namespace, r.Name, r.Action, r.Detail)
		}
	}
	rb := get(ctx, t, cl, "rbac.authorization.k8s.io/v1", "rolebindings", "adopt", "viewers")
	if !appliedByPlugin(rb) {
		t.Errorf("RoleBinding not applied by %s: %v", kube.FieldManager, rb.GetManagedFields())
	}
	all := decode(t, handMade)
	settled := resourceVersions(t, cl, all)
	rep, err = (&kube.Applier{Clients: cl, Section: "adopttest"}).Apply(ctx, decode(t, handMade))
	if err != nil || actions(rep)["unchanged"] != len(all) {
		t.Fatalf("re-run: %v %v", actions(rep), err)
	}
	if after := resourceVersions(t, cl, all); !maps.Equal(settled, after) {
		t.Fatalf("the re-run moved resourceVersions: %v -> %v", settled, after)
	}
}

// TestAdoptServerSideByHand: objects applied by hand with `kubectl apply --server-side` (field
// manager "kubectl", operation Apply), as Kubeflow's README installs, are adopted the same way.
func TestAdoptServerSideByHand(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Version: testbed.V137, APIServerOnly: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl := clientsFor(t, c)
	for _, o := range decode(t, handMade) {
		force := true
		if _, err := resourceFor(t, cl, o).Apply(ctx, o.GetName(), o, metav1.ApplyOptions{FieldManager: "kubectl", Force: force}); err != nil {
			t.Fatalf("kubectl apply --server-side of %s: %v", kube.Ref(o), err)
		}
	}
	rep, err := (&kube.Applier{Clients: cl, Section: "adopttest"}).Apply(ctx, decode(t, handMade))
	if err != nil {
		t.Fatalf("adopting what kubectl applied server-side: %v", err)
	}
	for _, r := range rep.Results {
		if r.Kind == "Namespace" {
			continue // an applied config of a name alone leaves kubectl no field to own
		}
		if r.Detail != "adopted from kubectl" {
			t.Errorf("%s %s/%s: %s (%q), want adopted from kubectl", r.Kind, r.Namespace, r.Name, r.Action, r.Detail)
		}
	}
}
