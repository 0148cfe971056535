package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// imageList is `images -o json` as a user's script reads it.
type imageList struct {
	Kind   string           `json:"kind"`
	Images []imageListEntry `json:"images"`
	Notes  []string         `json:"notes"`
}

// imageListEntry is one image of imageList.
type imageListEntry struct {
	Image   string `json:"image"`
	Sources []struct {
		Section, Object, Field, Origin, Note string
	} `json:"sources"`
}

// liveImages are the images of every pod template and pod the cluster holds outside
// kube-system (Deployments, StatefulSets, DaemonSets, ReplicaSets not scaled to zero, Jobs,
// CronJobs, Pods not being deleted), each
// with the first object that runs it: what the platform's releases, manifests and operators
// (the gpu stand-in's device plugin) run on the test bed.
func liveImages(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	apps := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: r}
	}
	batch := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: r}
	}
	template := []string{"spec", "template", "spec"}
	out := map[string]string{}
	for _, w := range []struct {
		gvr  schema.GroupVersionResource
		spec []string
	}{
		{apps("deployments"), template}, {apps("statefulsets"), template}, {apps("daemonsets"), template},
		{apps("replicasets"), template}, {batch("jobs"), template},
		{batch("cronjobs"), []string{"spec", "jobTemplate", "spec", "template", "spec"}},
		{schema.GroupVersionResource{Version: "v1", Resource: "pods"}, []string{"spec"}},
	} {
		list, err := dyn.Resource(w.gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Items {
			if o.GetNamespace() == "kube-system" || o.GetDeletionTimestamp() != nil {
				continue
			}
			if n, found, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); o.GetKind() == "ReplicaSet" && found && n == 0 {
				continue // a rollout's old ReplicaSet: it runs nothing
			}
			for _, field := range []string{"initContainers", "containers"} {
				cts, _, _ := unstructured.NestedSlice(o.Object, append(slices.Clone(w.spec), field)...)
				for _, ct := range cts {
					image, _ := ct.(map[string]any)["image"].(string)
					if _, seen := out[image]; !seen && image != "" {
						out[image] = o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
					}
				}
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d images run on the bed: %v", len(out), out)
	}
	return out
}

// checkImages runs `images -f` on the installed platform: it changes nothing, lists every image
// the bed runs (the difference is computed), and the images named only in configs that the
// release's manifests were read for by hand (configOnly), each as config.
func checkImages(t *testing.T, c *testbed.Cluster, file string, configOnly []string) {
	t.Helper()
	before := platformState(t, c)
	r := runPlugin(t, c, "images", "-f", file, "-o", "json")
	if r.code != 0 {
		t.Fatalf("images: exit %d\n%s", r.code, r.stderr)
	}
	var got imageList
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || got.Kind != "ImageList" {
		t.Fatalf("images -o json: %v\n%s", err, r.stdout)
	}
	origins := map[string][]string{}
	for _, im := range got.Images {
		for _, s := range im.Sources {
			origins[im.Image] = append(origins[im.Image], s.Section+" "+s.Origin)
		}
	}
	live := liveImages(t, c)
	for image, where := range live {
		if _, ok := origins[image]; !ok {
			t.Errorf("%s runs on the bed (%s) but images does not list it", image, where)
		}
	}
	for _, want := range append(configOnly, "busybox:stable") {
		if len(origins[want]) == 0 {
			t.Errorf("%s: not listed", want)
		}
	}
	for _, want := range configOnly {
		if !slices.ContainsFunc(origins[want], func(s string) bool { return strings.HasSuffix(s, " config") }) {
			t.Errorf("%s: not listed as config: %v", want, origins[want])
		}
	}
	if o := origins["busybox:stable"]; !slices.Contains(o, "storage plugin") {
		t.Errorf("the storage smoke test's image: %v", o)
	}
	if !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.HasPrefix(n, "tls: ") }) {
		t.Errorf("notes do not say tls runs no workload of its own: %v", got.Notes)
	}
	t.Logf("images lists %d images; %d run on the bed", len(got.Images), len(live))

	text := runPlugin(t, c, "images", "-f", file, "-o", "text", "--only", "kubeflow")
	lines := strings.Fields(text.stdout)
	if text.code != 0 || len(lines) < 50 || !slices.IsSorted(lines) || slices.Contains(lines, "busybox:stable") {
		t.Errorf("images -o text --only kubeflow: exit %d, %d lines (sorted %v)\n%s", text.code, len(lines), slices.IsSorted(lines), text.stderr)
	}
	sameState(t, before, platformState(t, c))

	for name, args := range map[string][]string{
		"no file":        {"images"},
		"missing file":   {"images", "-f", filepath.Join(t.TempDir(), "absent.yaml")},
		"unknown -o":     {"images", "-f", file, "-o", "csv"},
		"unknown --only": {"images", "-f", file, "--only", "nosuch"},
	} {
		if r := runPlugin(t, c, args...); r.code != 2 || r.stdout != "" {
			t.Errorf("%s: exit %d (want 2), stdout %q, stderr %s", name, r.code, r.stdout, r.stderr)
		}
	}
}
