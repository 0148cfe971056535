package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// exampleProfile is the Profile Kubeflow's example build ships.
const exampleProfile = "kubeflow-user-example-com"

// nextRelease is a copy of the v1.10.2 manifests tree standing for the next release, with edit
// applied to it (paths relative to the tree's root); it returns the tree's folder.
func nextRelease(t *testing.T, edit func(root string)) string {
	t.Helper()
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	archive := filepath.Join(root, "..", "shared", "fixtures", "kubeflow", "manifests-1.10.2.tar.gz")
	if out, err := exec.Command("tar", "-xzf", archive, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", archive, err, out)
	}
	tree := filepath.Join(dir, "manifests-1.10.2")
	edit(tree)
	return tree
}

// editFile rewrites one file of the tree, failing when old is not in it.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// withManifests is args with --manifests pointing at tree.
func withManifests(args []string, tree string) []string {
	out := slices.Clone(args)
	for i := range out {
		if out[i] == "--manifests" {
			out[i+1] = tree
		}
	}
	return out
}

// assertKubeflowUpgrades: over the installed v1.10.2 build, a next release whose PodDefault CRD
// no longer defines the version the cluster stores is refused by preflight (exit 2, nothing
// changed); the next release proper (one NetworkPolicy dropped, a ConfigMap added, the example
// Profile's spec changed) converges to exactly its objects: the dropped one pruned, the new one
// created and a member of the set, the generated credentials and a label added by hand kept, and
// the changed Profile awaited by the generic readiness rule (its controller reporting it not
// Ready, the run times out naming it and why); once it is Ready, a re-run changes nothing.
func assertKubeflowUpgrades(t *testing.T, c *testbed.Cluster, args []string) {
	t.Helper()
	ctx := context.Background()
	before := platformState(t, c)
	dropsStored := nextRelease(t, func(root string) {
		editFile(t, filepath.Join(root, "applications/admission-webhook/upstream/base/crd.yaml"), "  - name: v1alpha1\n", "  - name: v1alpha2\n")
	})
	r := runPlugin(t, c, append(append([]string{"kubeflow"}, withManifests(args, dropsStored)...), "--wait=false")...)
	if r.code != 2 {
		t.Fatalf("a build dropping a stored CRD version: want exit 2 from preflight, got %d\n%s", r.code, r.stderr)
	}
	for _, w := range []string{"CustomResourceDefinition poddefaults.kubeflow.org: the cluster stores its objects as v1alpha1", "storedVersions", "nothing was changed"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q", w)
		}
	}
	sameState(t, before, platformState(t, c))

	next := nextRelease(t, func(root string) {
		editFile(t, filepath.Join(root, "common/user-namespace/base/profile-instance.yaml"), "spec:\n", "spec:\n  resourceQuotaSpec:\n    hard:\n      cpu: \"16\"\n")
		kust := filepath.Join(root, "common/networkpolicies/base/kustomization.yaml")
		editFile(t, kust, "- model-registry-ui.yaml\n", "- release.yaml\n")
		release := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kubeflow-release\ndata:\n  version: next\n"
		if err := os.WriteFile(filepath.Join(root, "common/networkpolicies/base/release.yaml"), []byte(release), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	credentials := map[string]string{}
	for _, n := range []string{"mlpipeline-minio-artifact", "katib-mysql-secrets"} {
		s, err := c.Client.CoreV1().Secrets("kubeflow").Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		credentials[n] = s.ResourceVersion
	}
	patch := []byte(`{"metadata":{"labels":{"example.com/owner":"ops"}}}`)
	if _, err := c.Client.AppsV1().Deployments("kubeflow").Patch(ctx, "ml-pipeline-ui", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "ops-by-hand"}); err != nil {
		t.Fatal(err)
	}

	// The test plays the profile controller, with what the Profile's status schema keeps
	// (conditions of type, status and message): the Profile is not Ready yet when the next
	// release changes its spec.
	profiles := dynamic.NewForConfigOrDie(c.Config).Resource(schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"})
	const lagging = "reconciling the new resource quota"
	report := func(ready string) {
		t.Helper()
		p, err := profiles.Get(ctx, exampleProfile, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Ready", "status": ready, "message": lagging}}}
		if _, err := profiles.UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	report("False")

	r = runPlugin(t, c, append(append([]string{"kubeflow"}, withManifests(args, next)...), "-o", "json", "--timeout", "40s")...)
	want := fmt.Sprintf("profile/%s: inprogress: %s", exampleProfile, lagging)
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("the next release with the profile controller behind: want exit 1 from the wait naming the Profile (%q), got %d\n%s", want, r.code, r.stderr)
	}
	var pruned, created []string
	for _, x := range kfReport(t, r).Results {
		switch x.Action {
		case kube.Pruned:
			pruned = append(pruned, x.Kind+" "+x.Namespace+"/"+x.Name)
		case output.Created:
			created = append(created, x.Kind+" "+x.Namespace+"/"+x.Name)
		}
	}
	if strings.Join(pruned, ",") != "NetworkPolicy kubeflow/model-registry-ui" {
		t.Errorf("pruned %v, want exactly the NetworkPolicy the next release dropped", pruned)
	}
	if strings.Join(created, ",") != "ConfigMap kubeflow/kubeflow-release" {
		t.Errorf("created %v, want exactly the ConfigMap the next release added", created)
	}
	members, err := c.Client.CoreV1().ConfigMaps("kubeflow").List(ctx, metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=" + kube.ApplySetID("kubeflow")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(members.Items, func(m corev1.ConfigMap) bool { return m.Name == "kubeflow-release" }) {
		t.Error("kubectl get -l applyset.kubernetes.io/part-of does not list the new ConfigMap")
	}
	if _, err := c.Client.NetworkingV1().NetworkPolicies("kubeflow").Get(ctx, "model-registry-ui", metav1.GetOptions{}); err == nil {
		t.Error("the dropped NetworkPolicy is still there")
	}
	for n, rv := range credentials {
		s, err := c.Client.CoreV1().Secrets("kubeflow").Get(ctx, n, metav1.GetOptions{})
		if err != nil || s.ResourceVersion != rv {
			t.Errorf("generated credential Secret kubeflow/%s changed across the upgrade (%v)", n, err)
		}
	}
	d, err := c.Client.AppsV1().Deployments("kubeflow").Get(ctx, "ml-pipeline-ui", metav1.GetOptions{})
	if err != nil || d.Labels["example.com/owner"] != "ops" {
		t.Errorf("the label added by hand did not survive the upgrade (%v)", err)
	}

	// The controller catches up: the re-run finds everything as it is and waits for nothing the
	// run did not change.
	report("True")
	after := platformState(t, c)
	r = runPlugin(t, c, append(append([]string{"kubeflow"}, withManifests(args, next)...), "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("the next release again: exit %d\n%s", r.code, r.stderr)
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != output.Unchanged {
			t.Errorf("re-run of the next release: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	sameState(t, after, platformState(t, c))
}
