package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// bedMirror is the registry the platform is pointed at: nothing pulls on the bed (kwok runs no
// containers), so it only has to be a name; it is on loopback all the same.
const bedMirror = "127.0.0.1:5999/mirror"

// registryKinds are the objects that name images the platform runs: pod templates and pods,
// the configs controllers start pods from, the ClusterPolicy, serving and training runtimes.
var registryKinds = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"}, {Version: "v1", Resource: "pods"},
	{Group: "apps", Version: "v1", Resource: "deployments"}, {Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"}, {Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "batch", Version: "v1", Resource: "jobs"}, {Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "nvidia.com", Version: "v1", Resource: "clusterpolicies"},
	{Group: "serving.kserve.io", Version: "v1alpha1", Resource: "clusterservingruntimes"},
	{Group: "trainer.kubeflow.org", Version: "v1alpha1", Resource: "clustertrainingruntimes"},
}

// upstreamLeft finds, in every live object of registryKinds outside kube-system, each
// repository of upstream (the images `images` listed before the rewrite) where it stands as a
// value (bounded by quotes, spaces, '=' or list marks; followed by a tag, a digest or the end):
// a reference the rewrite missed. ReplicaSets scaled to zero and pods being deleted are left
// out (a rollout's leftovers), so are Knative's "_example" documentation blocks.
func upstreamLeft(t *testing.T, c *testbed.Cluster, upstream []string) []string {
	t.Helper()
	var terms []string
	for _, ref := range upstream {
		repo, _, _ := strings.Cut(ref, "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		if !strings.Contains(repo, "/") {
			repo = ref // "mysql" alone is also a host name, an argument: only mysql:8.4 is an image
		}
		terms = append(terms, regexp.QuoteMeta(repo))
	}
	re := regexp.MustCompile(`(?:^|[\s"'=\[,])(` + strings.Join(terms, "|") + `)(?:$|[\s"'\]},:@\\])`)
	dyn := dynamic.NewForConfigOrDie(c.Config)
	var left []string
	for _, gvr := range registryKinds {
		list, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			continue // a kind this release does not install
		}
		for _, o := range list.Items {
			if o.GetNamespace() == "kube-system" || o.GetDeletionTimestamp() != nil {
				continue
			}
			if n, found, _ := unstructured.NestedInt64(o.Object, "spec", "replicas"); gvr.Resource == "replicasets" && found && n == 0 {
				continue
			}
			if data, ok := o.Object["data"].(map[string]any); ok {
				for k := range data {
					// KFP's profile controller code holds its defaults, which the env set by
					// the rewrite overrides (checked on its Deployment by the caller).
					if strings.HasPrefix(k, "_example") || k == "sync.py" {
						delete(data, k)
					}
				}
			}
			delete(o.Object, "status")
			unstructured.RemoveNestedField(o.Object, "metadata", "managedFields")
			b, _ := json.Marshal(o.Object) // strings in strings (a ConfigMap's JSON) keep \" and \n
			for _, m := range re.FindAllStringSubmatch(strings.ReplaceAll(string(b), `\n`, "\n"), -1) {
				left = append(left, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()+": "+m[1])
			}
		}
	}
	return left
}

// checkImageRegistry points the installed platform at a mirror with the spec-wide imageRegistry
// and imagePullSecrets: the sections that run workloads change, nothing the platform runs or
// starts names an upstream image any more, `images` still lists the upstream names, the re-run
// is unchanged, and verify's registry checks pass, then fail naming a pod made from upstream.
func checkImageRegistry(t *testing.T, c *testbed.Cluster, b *platformBed, installer string) {
	good := b.writePlatform(t, "plugins.yaml", nil)
	mirrored := b.writePlatform(t, "mirrored.yaml", func(s string) string {
		return strings.Replace(s, "\nspec:\n", "\nspec:\n  imageRegistry: "+bedMirror+"\n  imagePullSecrets: [mirror-pull]\n", 1)
	})
	list := runPlugin(t, c, "images", "-f", good, "-o", "text")
	if list.code != 0 {
		t.Fatalf("images: exit %d", list.code)
	}
	upstream := strings.Fields(list.stdout)

	r := runPluginAs(t, installer, "apply", "-f", mirrored, "-o", "json")
	if r.code != 0 {
		t.Fatalf("apply with imageRegistry: exit %d", r.code)
	}
	wantResults(t, summaryOf(t, r), map[string]string{"storage": "changed", "lb": "changed", "kubeflow": "changed", "gpu": "changed", "tls": "unchanged", "profiles": "unchanged"})

	var left []string
	deadline := time.Now().Add(2 * time.Minute) // the rollouts replace the pods
	for left = upstreamLeft(t, c, upstream); len(left) > 0 && time.Now().Before(deadline); left = upstreamLeft(t, c, upstream) {
		time.Sleep(2 * time.Second)
	}
	for _, l := range left {
		t.Errorf("an upstream image is left after the rewrite: %s", l)
	}
	for image, where := range liveImages(t, c) {
		if !strings.HasPrefix(image, bedMirror+"/") {
			t.Errorf("%s runs %s", where, image)
		}
	}
	checkPullSecret(t, c, "mirror-pull")
	pc, err := c.Client.AppsV1().Deployments("kubeflow").Get(context.Background(), "kubeflow-pipelines-profile-controller", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	frontend := ""
	for _, e := range pc.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "FRONTEND_IMAGE" {
			frontend = e.Value
		}
	}
	if !strings.HasPrefix(frontend, bedMirror+"/") || !strings.HasSuffix(frontend, "frontend") {
		t.Errorf("KFP's profile controller does not start the per-profile frontend from the mirror: FRONTEND_IMAGE %q", frontend)
	}
	if again := runPlugin(t, c, "images", "-f", mirrored, "-o", "text"); again.code != 0 || again.stdout != list.stdout {
		t.Errorf("images -f with imageRegistry: exit %d, want the upstream names as without it", again.code)
	}

	before := platformState(t, c)
	r = runPluginAs(t, installer, "apply", "-f", mirrored)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d", r.code)
	}
	for _, sec := range []string{"storage", "lb", "kubeflow", "tls", "profiles", "gpu"} {
		if !regexp.MustCompile(`(?m)^` + sec + `\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
			t.Errorf("summary: %s is not unchanged", sec)
		}
	}
	sameState(t, before, platformState(t, c))

	ids := []string{"STORAGE-004", "LB-007"}
	v := runPlugin(t, c, "verify", "-f", mirrored)
	if v.code != 0 {
		t.Fatalf("verify with every pod from the mirror: exit %d", v.code)
	}
	for _, id := range ids {
		if !regexp.MustCompile(`(?m)^OK\s+` + id + `\s.*` + regexp.QuoteMeta(bedMirror)).MatchString(v.stdout) {
			t.Errorf("verify: %s does not pass naming the registry", id)
		}
	}
	pods := c.Client.CoreV1().Pods("metallb-system")
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "pulls-upstream"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "docker.io/library/busybox:1.36"}}}}
	if _, err := pods.Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pods.Delete(context.Background(), pod.Name, *metav1.NewDeleteOptions(0)) }()
	v = runPlugin(t, c, "verify", "-f", mirrored)
	if v.code != 3 || !regexp.MustCompile(`(?m)^ERROR\s+LB-007\s`).MatchString(v.stdout) || !strings.Contains(v.stdout, "metallb-system/pulls-upstream: docker.io/library/busybox:1.36") {
		t.Errorf("verify with a pod from upstream in metallb-system: exit %d, want 3 and LB-007 failing naming the pod and its image", v.code)
	}
}

// checkPullSecret: every Deployment, StatefulSet and DaemonSet outside kube-system (all the
// platform's on the bed) names secret in its pod template's imagePullSecrets.
func checkPullSecret(t *testing.T, c *testbed.Cluster, secret string) {
	t.Helper()
	ctx := context.Background()
	apps := c.Client.AppsV1()
	var templates []struct {
		name    string
		secrets []corev1.LocalObjectReference
	}
	add := func(kind, ns, name string, spec corev1.PodSpec) {
		if ns != "kube-system" {
			templates = append(templates, struct {
				name    string
				secrets []corev1.LocalObjectReference
			}{kind + "/" + ns + "/" + name, spec.ImagePullSecrets})
		}
	}
	deps, err := apps.Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range deps.Items {
		add("Deployment", d.Namespace, d.Name, d.Spec.Template.Spec)
	}
	sts, err := apps.StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sts.Items {
		add("StatefulSet", d.Namespace, d.Name, d.Spec.Template.Spec)
	}
	dss, err := apps.DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dss.Items {
		add("DaemonSet", d.Namespace, d.Name, d.Spec.Template.Spec)
	}
	if len(templates) < 10 {
		t.Fatalf("only %d workloads on the bed", len(templates))
	}
	for _, w := range templates {
		if !slices.Contains(w.secrets, corev1.LocalObjectReference{Name: secret}) {
			t.Errorf("%s: imagePullSecrets %v, want %s", w.name, w.secrets, secret)
		}
	}
}
