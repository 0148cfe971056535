package e2e

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// imageList is `images -o json` as a user's script reads it.
type imageList struct {
	Kind   string `json:"kind"`
	Images []struct {
		Image   string `json:"image"`
		Sources []struct {
			Section, Object, Field, Origin, Note string
		} `json:"sources"`
	} `json:"images"`
	Notes []string `json:"notes"`
}

// liveImages are the images of every pod template and pod the cluster holds outside
// kube-system (Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs, Pods), each
// with the first object that runs it: what the platform's releases, manifests and operators
// (the gpu stand-in's device plugin) run on the test bed, read with client-go's types.
func liveImages(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	ctx, all := context.Background(), metav1.ListOptions{}
	out := map[string]string{}
	note := func(kind string, m metav1.ObjectMeta, spec corev1.PodSpec) {
		if m.Namespace == "kube-system" {
			return
		}
		for _, ct := range append(spec.InitContainers, spec.Containers...) {
			if _, seen := out[ct.Image]; !seen {
				out[ct.Image] = kind + "/" + m.Namespace + "/" + m.Name
			}
		}
	}
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	deps, err := cs.AppsV1().Deployments("").List(ctx, all)
	must(err)
	for _, o := range deps.Items {
		note("Deployment", o.ObjectMeta, o.Spec.Template.Spec)
	}
	sts, err := cs.AppsV1().StatefulSets("").List(ctx, all)
	must(err)
	for _, o := range sts.Items {
		note("StatefulSet", o.ObjectMeta, o.Spec.Template.Spec)
	}
	dss, err := cs.AppsV1().DaemonSets("").List(ctx, all)
	must(err)
	for _, o := range dss.Items {
		note("DaemonSet", o.ObjectMeta, o.Spec.Template.Spec)
	}
	rss, err := cs.AppsV1().ReplicaSets("").List(ctx, all)
	must(err)
	for _, o := range rss.Items {
		note("ReplicaSet", o.ObjectMeta, o.Spec.Template.Spec)
	}
	jobs, err := cs.BatchV1().Jobs("").List(ctx, all)
	must(err)
	for _, o := range jobs.Items {
		note("Job", o.ObjectMeta, o.Spec.Template.Spec)
	}
	cjs, err := cs.BatchV1().CronJobs("").List(ctx, all)
	must(err)
	for _, o := range cjs.Items {
		note("CronJob", o.ObjectMeta, o.Spec.JobTemplate.Spec.Template.Spec)
	}
	pods, err := cs.CoreV1().Pods("").List(ctx, all)
	must(err)
	for _, o := range pods.Items {
		note("Pod", o.ObjectMeta, o.Spec)
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
