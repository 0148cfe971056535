package images

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// found is ref -> "origin field" of every source.
func found(sc *Scanner) map[string][]string {
	out := map[string][]string{}
	for _, im := range sc.List.Images() {
		for _, s := range im.Sources {
			out[im.Ref] = append(out[im.Ref], string(s.Origin)+" "+s.Field)
		}
	}
	return out
}

func wantExactly(t *testing.T, got map[string][]string, want map[string][]string) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if !bytes.Equal(g, w) {
		t.Errorf("got\n%s\nwant\n%s", g, w)
	}
}

func TestScanWorkloads(t *testing.T) {
	var sc Scanner
	sc.Scan("kubeflow", objects(t, `
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
        args: ["--executor-image=quay.io/argoproj/argoexec:v3.7.3", "--solver-image", "quay.io/jetstack/solver:v1", "--image-pull-policy=Always", "--other=x"]
        env:
        - {name: V2_DRIVER_IMAGE, value: ghcr.io/kubeflow/kfp-driver:2.16.0}
        - {name: IMAGE_PULL_POLICY, value: IfNotPresent}
        - {name: TEMPLATED_IMAGE, value: "{{ .Values.image }}"}
        - {name: OTHER, value: ghcr.io/not/an-image-setting:1}
`, `
apiVersion: caching.internal.knative.dev/v1alpha1
kind: Image
metadata: {name: queue-proxy, namespace: knative-serving}
spec: {image: gcr.io/knative-releases/queue@sha256:40957d3ced3b185b7a78bbd771be69b0a13137dcbee5ff7f82ae738b56037d9c}
`, `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: x}
spec: {versions: [{name: v1, schema: {openAPIV3Schema: {properties: {image: {type: string, default: "example/never:1"}}}}}]}
`), false)
	sc.Scan("storage", objects(t, `
apiVersion: v1
kind: Pod
metadata: {name: smoke, namespace: nfs}
spec: {containers: [{name: test-pod, image: "busybox:stable"}]}
`), true)
	wantExactly(t, found(&sc), map[string][]string{
		"busybox:1.36":   {"pod spec spec.template.spec.initContainers[init].image"},
		"busybox:stable": {"plugin spec.containers[test-pod].image"},
		"gcr.io/knative-releases/queue@sha256:40957d3ced3b185b7a78bbd771be69b0a13137dcbee5ff7f82ae738b56037d9c": {"config spec.image"},
		"ghcr.io/kubeflow/kfp-api-server:2.16.0": {"pod spec spec.template.spec.containers[api].image"},
		"ghcr.io/kubeflow/kfp-driver:2.16.0":     {"config spec.template.spec.containers[api].env[V2_DRIVER_IMAGE].value"},
		"quay.io/argoproj/argoexec:v3.7.3":       {"config spec.template.spec.containers[api].args[0]"},
		"quay.io/jetstack/solver:v1":             {"config spec.template.spec.containers[api].args[1]"},
	})
}

func TestScanConfigMaps(t *testing.T) {
	var sc Scanner
	sc.Scan("kubeflow", objects(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: config-deployment, namespace: knative-serving}
data:
  queue-sidecar-image: gcr.io/knative-releases/queue:v1
  _example: |
    queue-sidecar-image: example.com/never:1
    registries-skipping-tag-resolving: "kind.local"
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: inferenceservice-config, namespace: kubeflow}
data:
  explainers: |-
    {
        # the explainer's image and its default tag
        "art": {"image": "kserve/art-explainer", "defaultImageVersion": "latest"}
    }
  storageInitializer: '{"image": "kserve/storage-initializer:v0.16.0", "cpuRequest": "100m"}'
  router: '{"image": "kserve/router:v0.16.0", "imagePullPolicy": "IfNotPresent", "imagePullSecrets": ["docker-secret"]}'
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: jupyter-web-app-config, namespace: kubeflow}
data:
  spawner_ui_config.yaml: |
    spawnerFormDefaults:
      image: {value: "ghcr.io/kubeflow/jupyter-scipy:v1.10.0", options: ["ghcr.io/kubeflow/jupyter-scipy:v1.10.0", "ghcr.io/kubeflow/jupyter-pytorch:v1.10.0"]}
      imageGroupOne: {value: "ghcr.io/kubeflow/codeserver:v1.10.0", options: ["ghcr.io/kubeflow/codeserver:v1.10.0"]}
      imagePullPolicy: {value: IfNotPresent}
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"hub": "gcr.io/istio-release", "tag": "1.28.0", "variant": "distroless", "proxy": {"image": "proxyv2"}, "proxy_init": {"image": "docker.io/istio/proxyv2:1.28.0"}}}'
  config: 'image: "{{ .ProxyImage }}"'
`), false)
	wantExactly(t, found(&sc), map[string][]string{
		"docker.io/istio/proxyv2:1.28.0":                 {"config data[values].global.proxy_init.image"},
		"gcr.io/istio-release/proxyv2:1.28.0-distroless": {"config data[values].global.proxy.image"},
		"gcr.io/knative-releases/queue:v1":               {"config data[queue-sidecar-image]"},
		"ghcr.io/kubeflow/codeserver:v1.10.0":            {"config data[spawner_ui_config.yaml].spawnerFormDefaults.imageGroupOne.value", "config data[spawner_ui_config.yaml].spawnerFormDefaults.imageGroupOne.options[0]"},
		"ghcr.io/kubeflow/jupyter-pytorch:v1.10.0":       {"config data[spawner_ui_config.yaml].spawnerFormDefaults.image.options[1]"},
		"ghcr.io/kubeflow/jupyter-scipy:v1.10.0":         {"config data[spawner_ui_config.yaml].spawnerFormDefaults.image.value", "config data[spawner_ui_config.yaml].spawnerFormDefaults.image.options[0]"},
		"kserve/art-explainer:latest":                    {"config data[explainers].art.image"},
		"kserve/router:v0.16.0":                          {"config data[router].image"},
		"kserve/storage-initializer:v0.16.0":             {"config data[storageInitializer].image"},
	})
}

func TestScanProfileController(t *testing.T) {
	var sc Scanner
	sc.Scan("kubeflow", objects(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: kubeflow-pipelines-profile-controller-code, namespace: kubeflow}
data:
  sync.py: |
    frontend = os.environ.get("FRONTEND_IMAGE", "ghcr.io/kubeflow/kfp-frontend")
    vis = os.environ.get( "VISUALIZATION_SERVER_IMAGE" , "ghcr.io/kubeflow/kfp-visualization-server")
`, `
apiVersion: v1
kind: ConfigMap
metadata: {name: pipeline-install-config, namespace: kubeflow}
data: {appVersion: 2.5.0}
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
        env:
        - {name: KFP_VERSION, valueFrom: {configMapKeyRef: {name: pipeline-install-config, key: appVersion}}}
        - {name: VISUALIZATION_SERVER_IMAGE, value: mirror.example/vis}
        - {name: VISUALIZATION_SERVER_TAG, value: "2.5.0-patched"}
`), false)
	got := found(&sc)
	if f := got["ghcr.io/kubeflow/kfp-frontend:2.5.0"]; len(f) != 1 || !strings.HasPrefix(f[0], "config spec.template.spec.containers[profile-controller].env") {
		t.Errorf("frontend: %v (all: %v)", f, got)
	}
	if f := got["mirror.example/vis:2.5.0-patched"]; len(f) != 1 || f[0] != "config spec.template.spec.containers[profile-controller].env[VISUALIZATION_SERVER_IMAGE].value" {
		t.Errorf("visualization server from the env: %v (all: %v)", f, got)
	}
	if len(got) != 3 {
		t.Errorf("want the container's image and the two started per profile, got %v", got)
	}
}

func TestScanClusterPolicy(t *testing.T) {
	policy := `
apiVersion: nvidia.com/v1
kind: ClusterPolicy
metadata: {name: cluster-policy}
spec:
  sandboxWorkloads: {enabled: false}
  driver:
    enabled: true
    repository: nvcr.io/nvidia
    image: driver
    version: "595.91.07"
    manager: {repository: nvcr.io/nvidia/cloud-native, image: k8s-driver-manager, version: v0.12.0}
  toolkit: {enabled: true, repository: nvcr.io/nvidia/k8s, image: container-toolkit, version: v1.20.0}
  devicePlugin: {repository: nvcr.io/nvidia, image: k8s-device-plugin, version: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
  dcgm: {enabled: false, repository: nvcr.io/nvidia/cloud-native, image: dcgm, version: 4.6.0-1-ubuntu24.04}
  vfioManager: {enabled: true, repository: nvcr.io/nvidia/cloud-native, image: k8s-driver-manager-vfio, version: v0.12.0}
  validator: {image: nvcr.io/nvidia/gpu-operator-validator:v26.7.0}
`
	var sc Scanner
	sc.DriverOS = []string{"rhel9.4", "ubuntu22.04"}
	sc.Scan("gpu", objects(t, policy), false)
	var refs []string
	for _, im := range sc.List.Images() {
		refs = append(refs, im.Ref)
		if im.Sources[0].Origin != Operator {
			t.Errorf("%s: origin %s", im.Ref, im.Sources[0].Origin)
		}
	}
	want := "nvcr.io/nvidia/cloud-native/k8s-driver-manager:v0.12.0 nvcr.io/nvidia/driver:595.91.07-rhel9.4 nvcr.io/nvidia/driver:595.91.07-ubuntu22.04 " +
		"nvcr.io/nvidia/gpu-operator-validator:v26.7.0 nvcr.io/nvidia/k8s-device-plugin@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef nvcr.io/nvidia/k8s/container-toolkit:v1.20.0"
	if got := strings.Join(refs, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	var unknown Scanner // no GPU node's OS known: the tag as the policy gives it, with a note
	unknown.Scan("gpu", objects(t, policy), false)
	for _, im := range unknown.List.Images() {
		if strings.Contains(im.Ref, "/driver:") && (im.Ref != "nvcr.io/nvidia/driver:595.91.07" || !strings.Contains(im.Sources[0].Note, "appends each GPU node's OS")) {
			t.Errorf("driver without a known OS: %s %+v", im.Ref, im.Sources)
		}
	}
}

func TestIsReference(t *testing.T) {
	for s, want := range map[string]bool{
		"busybox": true, "ghcr.io/a/b:v1": true, "a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"": false, "{{ .Values.image }}": false, "$(IMAGE)": false, "IfNotPresent": false, "a b": false,
	} {
		if IsReference(s) != want {
			t.Errorf("IsReference(%q) = %v", s, !want)
		}
	}
}
