package images

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// rewriteDocs hold a reference of every kind the scan finds: pod templates, flags, env values
// (direct, from a ConfigMap, untagged with X_TAG), ConfigMap settings (a key, YAML and JSON
// documents with comments, explainers, the Jupyter web app), istio's hub, KFP's profile
// controller default, a ClusterPolicy (repository, image alone, digest).
var rewriteDocs = []string{`
apiVersion: apps/v1
kind: Deployment
metadata: {name: ml-pipeline, namespace: kubeflow}
spec:
  template:
    spec:
      initContainers: [{name: init, image: busybox:1.36}]
      containers:
      - name: api
        image: ghcr.io/kubeflow/kfp-api-server:2.16.0
        args: ["--executor-image=quay.io/argoproj/argoexec:v3.7.3", "--solver-image", "quay.io/jetstack/solver:v1", "--other=x"]
        env:
        - {name: V2_DRIVER_IMAGE, value: ghcr.io/kubeflow/kfp-driver:2.16.0}
        - {name: CACHE_IMAGE, value: registry.k8s.io/busybox}
        - {name: CACHE_TAG, value: "1.36"}
        - {name: LAUNCHER_IMAGE, valueFrom: {configMapKeyRef: {name: env-images, key: launcher}}}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: env-images, namespace: kubeflow}
data: {launcher: "ghcr.io/kubeflow/kfp-launcher:2.16.0"}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: inferenceservice-config, namespace: kubeflow}
data:
  explainers: |-
    {
        # the explainer's image and its default tag
        "art": {"image": "kserve/art-explainer", "defaultImageVersion": "latest"},
        "other": {"image": "kserve/art-explainer-two:v1"}
    }
  storageInitializer: '{"image": "kserve/storage-initializer:v0.16.0", "cpuRequest": "100m"}'
  queue-sidecar-image: gcr.io/knative-releases/queue@sha256:40957d3ced3b185b7a78bbd771be69b0a13137dcbee5ff7f82ae738b56037d9c
  spawner_ui_config.yaml: |
    # the notebook images offered
    spawnerFormDefaults:
      image:
        value: ghcr.io/kubeflow/jupyter-scipy:v1.10.0
        options:
        - ghcr.io/kubeflow/jupyter-scipy:v1.10.0
        - ghcr.io/kubeflow/jupyter-scipy:v1.10.0-cuda
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"hub": "gcr.io/istio-release", "tag": "1.28.0", "proxy": {"image": "proxyv2"}, "proxy_init": {"image": "docker.io/istio/proxyv2:1.28.0"}}}'
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: kubeflow-pipelines-profile-controller-code, namespace: kubeflow}
data:
  sync.py: |
    frontend = os.environ.get("FRONTEND_IMAGE", "ghcr.io/kubeflow/kfp-frontend")
`, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: kubeflow-pipelines-profile-controller, namespace: kubeflow}
spec:
  template:
    spec:
      containers:
      - name: profile-controller
        image: python:3.11
        env: [{name: KFP_VERSION, value: 2.5.0}]
`, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec: {template: {spec: {containers: [{name: istio-proxy, image: auto}]}}}
`, `
apiVersion: nvidia.com/v1
kind: ClusterPolicy
metadata: {name: cluster-policy}
spec:
  driver: {enabled: true, repository: nvcr.io/nvidia, image: driver, version: "595.91.07"}
  devicePlugin: {repository: nvcr.io/nvidia, image: k8s-device-plugin, version: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  validator: {image: nvcr.io/nvidia/gpu-operator-validator:v26.7.0}
`}

func refsOf(objs []*unstructured.Unstructured) []string {
	var sc Scanner
	sc.Scan("x", objs, false)
	var out []string
	for _, im := range sc.List.Images() {
		out = append(out, im.Ref)
	}
	return out
}

// TestRewriteMapsEveryListedImage: after the rewrite, the scan lists exactly the mirror's names
// of what it listed before (the list and the rewrite cannot disagree), the documents keep their
// comments and every other byte, and a second rewrite changes nothing.
func TestRewriteMapsEveryListedImage(t *testing.T) {
	r := Registry{Registry: "mirror.example:5000/ai", PullSecrets: []string{"mirror-pull"}}
	objs := objects(t, rewriteDocs...)
	before := refsOf(objs)
	if err := r.Rewrite(objs); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, ref := range before {
		m, err := r.MapRef(ref)
		if err != nil {
			t.Fatal(err)
		}
		want[m] = true
	}
	after := refsOf(objs)
	if got := slices.Sorted(slices.Values(after)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("after the rewrite\n got  %v\n want %v", got, slices.Sorted(maps.Keys(want)))
	}
	for _, ref := range after {
		if !r.Within(ref) {
			t.Errorf("%s is outside the registry", ref)
		}
	}
	for _, ref := range []string{
		"mirror.example:5000/ai/library/busybox:1.36",
		"mirror.example:5000/ai/kserve/art-explainer:latest",
		"mirror.example:5000/ai/istio-release/proxyv2:1.28.0",
		"mirror.example:5000/ai/knative-releases/queue@sha256:40957d3ced3b185b7a78bbd771be69b0a13137dcbee5ff7f82ae738b56037d9c",
		"mirror.example:5000/ai/nvidia/k8s-device-plugin@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"mirror.example:5000/ai/kubeflow/kfp-frontend:2.5.0",
		"mirror.example:5000/ai/busybox:1.36",
	} {
		if !want[ref] {
			t.Errorf("%s: not among the rewritten %v", ref, after)
		}
	}

	data := func(i int, key string) string { return objs[i].Object["data"].(map[string]any)[key].(string) }
	if got := data(2, "explainers"); !strings.Contains(got, "# the explainer's image and its default tag") ||
		!strings.Contains(got, `"image": "mirror.example:5000/ai/kserve/art-explainer", "defaultImageVersion": "latest"`) ||
		!strings.Contains(got, `"mirror.example:5000/ai/kserve/art-explainer-two:v1"`) {
		t.Errorf("explainers:\n%s", got)
	}
	if got := data(2, "spawner_ui_config.yaml"); !strings.HasPrefix(got, "# the notebook images offered\n") || strings.Count(got, "mirror.example:5000/ai/kubeflow/jupyter-scipy:v1.10.0\n") != 2 ||
		!strings.Contains(got, "- mirror.example:5000/ai/kubeflow/jupyter-scipy:v1.10.0-cuda\n") {
		t.Errorf("spawner config:\n%s", got)
	}
	if got := data(3, "values"); !strings.Contains(got, `"hub": "mirror.example:5000/ai/istio-release"`) || !strings.Contains(got, `"tag": "1.28.0"`) {
		t.Errorf("istio values: %s", got)
	}
	if got := data(1, "launcher"); got != "mirror.example:5000/ai/kubeflow/kfp-launcher:2.16.0" {
		t.Errorf("env from a ConfigMap: %s", got)
	}
	api := objs[0].Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	c := api["containers"].([]any)[0].(map[string]any)
	if args := c["args"].([]any); args[0] != "--executor-image=mirror.example:5000/ai/argoproj/argoexec:v3.7.3" || args[2] != "mirror.example:5000/ai/jetstack/solver:v1" || args[3] != "--other=x" {
		t.Errorf("args: %v", args)
	}
	if env := c["env"].([]any); env[1].(map[string]any)["value"] != "mirror.example:5000/ai/busybox" || env[2].(map[string]any)["value"] != "1.36" {
		t.Errorf("an untagged X_IMAGE stays untagged, its X_TAG as it is: %v", env)
	}
	if !reflect.DeepEqual(api["imagePullSecrets"], []any{map[string]any{"name": "mirror-pull"}}) {
		t.Errorf("pull secrets: %v", api["imagePullSecrets"])
	}
	gw, _, _ := unstructured.NestedSlice(objs[6].Object, "spec", "template", "spec", "containers")
	if gw[0].(map[string]any)["image"] != "auto" {
		t.Errorf("istio's image: auto must stay: %v", gw)
	}
	spec := objs[7].Object["spec"].(map[string]any)
	if d := spec["driver"].(map[string]any); d["repository"] != "mirror.example:5000/ai/nvidia" || d["image"] != "driver" || !reflect.DeepEqual(d["imagePullSecrets"], []any{"mirror-pull"}) {
		t.Errorf("driver: %v", d)
	}
	if v := spec["validator"].(map[string]any); v["image"] != "mirror.example:5000/ai/nvidia/gpu-operator-validator:v26.7.0" {
		t.Errorf("validator: %v", v)
	}

	again := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		again[i] = o.DeepCopy()
	}
	if err := r.Rewrite(again); err != nil {
		t.Fatal(err)
	}
	for i := range objs {
		if !reflect.DeepEqual(objs[i].Object, again[i].Object) {
			t.Errorf("a second rewrite changed %s", objs[i].GetName())
		}
	}
}

func TestRegistryValidateAndWithin(t *testing.T) {
	for _, bad := range []string{"https://mirror.example", "oci:./dir", "mirror.example/ai:1", "x.tar", "Mirror Example", "./a-folder", "/srv/mirror"} {
		if ps := (Registry{Registry: bad}).Validate(); len(ps) != 1 || ps[0].Field != "imageRegistry" {
			t.Errorf("%q: %v", bad, ps)
		}
	}
	if ps := (Registry{PullSecrets: []string{"ok", "Not_OK"}}).Validate(); len(ps) == 0 || ps[0].Field != "imagePullSecrets[1]" {
		t.Errorf("secret names: %v", ps)
	}
	r := Registry{Registry: "mirror.example:5000/ai"}
	for ref, in := range map[string]bool{
		"mirror.example:5000/ai/kubeflow/x:1": true, "mirror.example:5000/aix/x:1": false,
		"mirror.example:5000/other/x:1": false, "docker.io/ai/x:1": false, "ai/x:1": false,
	} {
		if r.Within(ref) != in {
			t.Errorf("Within(%s) = %v", ref, !in)
		}
	}
	if (Registry{}).Enabled() || (Registry{}).Rewrite(nil) != nil {
		t.Error("an empty registry rewrites nothing")
	}
}
