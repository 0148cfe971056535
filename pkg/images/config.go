package images

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// addFunc notes one image found at field of the object being scanned.
type addFunc func(image, field string, origin Origin, note string)

// scanConfigMap finds the images a ConfigMap's settings name: a key that says it is an image
// (Knative's queue-sidecar-image, KFP's cacheImage), and in values that are YAML or JSON
// documents (Katib's config, KServe's inferenceservice-config, the Jupyter web app's spawner
// config) the settings whose names say so. Knative's "_example" blocks are documentation and
// skipped. istio's injector values give the injected proxy.
func scanConfigMap(o *unstructured.Unstructured, add addFunc) {
	data, _, _ := unstructured.NestedStringMap(o.Object, "data")
	for key, val := range data {
		field := "data[" + key + "]"
		switch {
		case strings.HasPrefix(key, "_example"):
		case imageKey(key):
			add(val, field, Config, "")
		case istioProxy(val, field, add):
		default:
			var doc any
			if err := yaml.Unmarshal([]byte(val), &doc); err != nil {
				continue
			}
			settings(doc, field, add)
		}
	}
}

// settings walks a settings document: under a key that says it holds an image, a string, a
// list of strings, or the Jupyter web app's {value, options}; KServe's explainers give the
// image and its defaultImageVersion apart.
func settings(v any, path string, add addFunc) {
	switch t := v.(type) {
	case map[string]any:
		img, hasImage := t["image"].(string)
		version, hasVersion := t["defaultImageVersion"].(string)
		if hasImage && hasVersion && !strings.ContainsAny(img, ":@") {
			add(img+":"+version, path+".image", Config, "image and defaultImageVersion")
		}
		for k, x := range t {
			p := path + "." + k
			switch {
			case strings.HasPrefix(k, "_example"):
			case k == "image" && hasImage && hasVersion:
			case imageKey(k):
				imageValues(x, p, add)
			default:
				settings(x, p, add)
			}
		}
	case []any:
		for i, x := range t {
			settings(x, fmt.Sprintf("%s[%d]", path, i), add)
		}
	}
}

// imageValues adds the images a setting named for an image holds.
func imageValues(v any, path string, add addFunc) {
	switch t := v.(type) {
	case string:
		add(t, path, Config, "")
	case []any:
		for i, x := range t {
			imageValues(x, fmt.Sprintf("%s[%d]", path, i), add)
		}
	case map[string]any: // the Jupyter web app: {value: default, options: [...]}
		for _, k := range []string{"value", "options"} {
			if x, ok := t[k]; ok {
				imageValues(x, path+"."+k, add)
			}
		}
	}
}

// istioProxy adds the proxy images istio's sidecar injector puts into every pod it injects,
// from the injector's values (global.hub, global.tag, global.variant and the proxy and
// proxy_init image names, a full reference when it holds a "/"); false when val is not such
// values.
func istioProxy(val, field string, add addFunc) bool {
	var v struct {
		Global struct {
			Hub, Tag, Variant string
			Proxy             struct{ Image string }
			ProxyInit         struct{ Image string } `json:"proxy_init"`
		}
	}
	if !strings.Contains(val, `"hub"`) || json.Unmarshal([]byte(val), &v) != nil || v.Global.Hub == "" || v.Global.Tag == "" {
		return false
	}
	tag := v.Global.Tag
	if v.Global.Variant != "" {
		tag += "-" + v.Global.Variant
	}
	for _, p := range []struct{ field, image string }{{"global.proxy.image", v.Global.Proxy.Image}, {"global.proxy_init.image", v.Global.ProxyInit.Image}} {
		switch {
		case p.image == "":
		case strings.Contains(p.image, "/"):
			add(p.image, field+"."+p.field, Config, "injected into every pod of a mesh namespace")
		default:
			add(v.Global.Hub+"/"+p.image+":"+tag, field+"."+p.field, Config, "injected into every pod of a mesh namespace: global.hub/image:global.tag")
		}
	}
	return true
}

// profileImage is a default image in KFP's profile controller code: os.environ.get("X_IMAGE", "default").
var profileImage = regexp.MustCompile(`os\.environ\.get\(\s*"(\w+)_IMAGE"\s*,\s*"([^"]+)"\s*\)`)

// envImages adds the images a container's env names (V2_DRIVER_IMAGE, TENSORBOARD_IMAGE). An
// untagged X_IMAGE takes its tag from X_TAG, or from KFP_VERSION in KFP's profile controller,
// as its code does (see scanProfileController).
func envImages(v any, path string, all []*unstructured.Unstructured, namespace string, add addFunc) {
	env := envValues(v, all, namespace)
	for _, name := range slices.Sorted(maps.Keys(env)) {
		image := env[name]
		if !imageKey(name) {
			continue
		}
		if !tagged(image) {
			if t := env[strings.TrimSuffix(name, "_IMAGE")+"_TAG"]; t != "" {
				image += ":" + t
			} else if t := env["KFP_VERSION"]; t != "" {
				image += ":" + t
			}
		}
		add(image, path+"["+name+"].value", Config, "")
	}
}

// tagged tells whether an image reference has a tag or a digest.
func tagged(ref string) bool {
	return strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@")
}

// scanProfileController adds what KFP's pipelines profile controller starts in every profile
// namespace (its frontend; the visualization server before KFP 2.5) when its env does not name
// it: its sync.py, mounted from a ConfigMap, takes each image from the env X_IMAGE, else the
// code's default, and its tag from X_TAG or KFP_VERSION. o is a workload whose container has
// KFP_VERSION; all are the section's objects (the ConfigMaps it reads).
func scanProfileController(o *unstructured.Unstructured, all []*unstructured.Unstructured, add addFunc) {
	code := syncCode(all, o.GetNamespace())
	if code == "" {
		return
	}
	walk(o.Object, "", func(path, key string, v any) {
		if key != "env" || !inContainerList(path+".") {
			return
		}
		env := envValues(v, all, o.GetNamespace())
		version, ok := env["KFP_VERSION"]
		if !ok {
			return
		}
		for _, m := range profileImage.FindAllStringSubmatch(code, -1) {
			if _, set := env[m[1]+"_IMAGE"]; set {
				continue // envImages listed it
			}
			tag := version
			if t := env[m[1]+"_TAG"]; t != "" {
				tag = t
			}
			add(m[2]+":"+tag, path+" (sync.py: "+m[1]+"_IMAGE)", Config, "started by KFP's profile controller in every profile namespace")
		}
	})
}

// syncCode is the profile controller's sync.py among objs in namespace.
func syncCode(objs []*unstructured.Unstructured, namespace string) string {
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetNamespace() == namespace {
			if s, ok, _ := unstructured.NestedString(o.Object, "data", "sync.py"); ok {
				return s
			}
		}
	}
	return ""
}

// envValues are a container's env values by name, those from a ConfigMap key resolved among
// objs.
func envValues(v any, objs []*unstructured.Unstructured, namespace string) map[string]string {
	out := map[string]string{}
	list, _ := v.([]any)
	for _, x := range list {
		e, _ := x.(map[string]any)
		name, _ := e["name"].(string)
		if val, ok := e["value"].(string); ok {
			out[name] = val
			continue
		}
		cm, _, _ := unstructured.NestedString(e, "valueFrom", "configMapKeyRef", "name")
		key, _, _ := unstructured.NestedString(e, "valueFrom", "configMapKeyRef", "key")
		i := slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool {
			return o.GetKind() == "ConfigMap" && o.GetName() == cm && o.GetNamespace() == namespace
		})
		if cm != "" && i >= 0 {
			if val, ok, _ := unstructured.NestedString(objs[i].Object, "data", key); ok {
				out[name] = val
			}
		}
	}
	return out
}
