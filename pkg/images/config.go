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

// addFunc notes one image found at field of the object being scanned; at is where the object
// holds it (for the rewrite).
type addFunc func(image, field string, origin Origin, note string, at slot)

// scanConfigMap finds the images a ConfigMap's settings name: a key that says it is an image
// (Knative's queue-sidecar-image, KFP's cacheImage), and in values that are YAML or JSON
// documents (Katib's config, KServe's inferenceservice-config, the Jupyter web app's spawner
// config) the settings whose names say so. Knative's "_example" blocks are documentation and
// skipped. istio's injector values give the injected proxy. A document's reference is replaced
// in its text (see replaceBounded): a re-encode would drop its comments and order.
func scanConfigMap(o *unstructured.Unstructured, add addFunc) {
	data, _ := o.Object["data"].(map[string]any)
	for _, key := range slices.Sorted(maps.Keys(data)) {
		val, ok := data[key].(string)
		if !ok {
			continue
		}
		field := "data[" + key + "]"
		inText := func(raw string) slot {
			return slot{raw: raw, set: func(n string) { data[key] = replaceBounded(data[key].(string), raw, n) }}
		}
		switch {
		case strings.HasPrefix(key, "_example"):
		case imageKey(key):
			add(val, field, Config, "", slot{raw: val, set: func(n string) { data[key] = n }})
		case istioProxy(val, field, add, inText):
		default:
			var doc any
			if err := yaml.Unmarshal([]byte(val), &doc); err != nil {
				continue
			}
			settings(doc, field, add, inText)
		}
	}
}

// settings walks a settings document: under a key that says it holds an image, a string, a
// list of strings, or the Jupyter web app's {value, options}; KServe's explainers give the
// image and its defaultImageVersion apart.
func settings(v any, path string, add addFunc, inText func(string) slot) {
	switch t := v.(type) {
	case map[string]any:
		img, hasImage := t["image"].(string)
		version, hasVersion := t["defaultImageVersion"].(string)
		if hasImage && hasVersion && !tagged(img) {
			add(img+":"+version, path+".image", Config, "image and defaultImageVersion", inText(img))
		}
		for k, x := range t {
			p := path + "." + k
			switch {
			case strings.HasPrefix(k, "_example"):
			case k == "image" && hasImage && hasVersion:
			case imageKey(k):
				imageValues(x, p, add, inText)
			default:
				settings(x, p, add, inText)
			}
		}
	case []any:
		for i, x := range t {
			settings(x, fmt.Sprintf("%s[%d]", path, i), add, inText)
		}
	}
}

// imageValues adds the images a setting named for an image holds.
func imageValues(v any, path string, add addFunc, inText func(string) slot) {
	switch t := v.(type) {
	case string:
		add(t, path, Config, "", inText(t))
	case []any:
		for i, x := range t {
			imageValues(x, fmt.Sprintf("%s[%d]", path, i), add, inText)
		}
	case map[string]any: // the Jupyter web app: {value: default, options: [...]}
		for _, k := range []string{"value", "options"} {
			if x, ok := t[k]; ok {
				imageValues(x, path+"."+k, add, inText)
			}
		}
	}
}

// boundary is what may stand beside a reference in a settings document: the start or end of a
// line, a space, a quote, a YAML list or flow mark.
const boundaryBefore, boundaryAfter = `(^|[\s"'\[,])`, `($|[\s"',\]}])`

// hub marks at as a hub (see slot).
func hub(at slot) slot {
	at.hub = true
	return at
}

// replaceBounded replaces every whole occurrence of old in doc (bounded as a value: see
// boundary) with repl, so a reference that is the prefix of another stays apart.
func replaceBounded(doc, old, repl string) string {
	re := regexp.MustCompile(`(?m)` + boundaryBefore + regexp.QuoteMeta(old) + boundaryAfter)
	for range 3 { // neighbours share a boundary: a second pass finds the one the first skipped
		next := re.ReplaceAllString(doc, "${1}"+strings.ReplaceAll(repl, "$", "$$")+"${2}")
		if next == doc {
			break
		}
		doc = next
	}
	return doc
}

// istioProxy adds the proxy images istio's sidecar injector puts into every pod it injects,
// from the injector's values (global.hub, global.tag, global.variant and the proxy and
// proxy_init image names, a full reference when it holds a "/"); false when val is not such
// values.
func istioProxy(val, field string, add addFunc, inText func(string) slot) bool {
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
			add(p.image, field+"."+p.field, Config, "injected into every pod of a mesh namespace", inText(p.image))
		default:
			add(v.Global.Hub+"/"+p.image+":"+tag, field+"."+p.field, Config, "injected into every pod of a mesh namespace: global.hub/image:global.tag", hub(inText(v.Global.Hub)))
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
		at := env[name]
		if !imageKey(name) {
			continue
		}
		image := at.raw
		if !tagged(image) {
			if t := env[strings.TrimSuffix(name, "_IMAGE")+"_TAG"].raw; t != "" {
				image += ":" + t
			} else if t := env["KFP_VERSION"].raw; t != "" {
				image += ":" + t
			}
		}
		add(image, path+"["+name+"].value", Config, "", at)
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
// KFP_VERSION; all are the section's objects (the ConfigMaps it reads). The rewrite sets X_IMAGE
// in the container's env (the code's default cannot be changed).
func scanProfileController(o *unstructured.Unstructured, all []*unstructured.Unstructured, add addFunc) {
	code := syncCode(all, o.GetNamespace())
	if code == "" {
		return
	}
	walk(o.Object, "", func(path, key string, v any, container map[string]any) {
		if key != "env" || !inContainerList(path+".") {
			return
		}
		env := envValues(v, all, o.GetNamespace())
		version, ok := env["KFP_VERSION"]
		if !ok {
			return
		}
		for _, m := range profileImage.FindAllStringSubmatch(code, -1) {
			name := m[1] + "_IMAGE"
			if _, set := env[name]; set {
				continue // envImages listed it
			}
			tag := version.raw
			if t := env[m[1]+"_TAG"].raw; t != "" {
				tag = t
			}
			at := slot{raw: m[2], set: func(n string) {
				list, _ := container["env"].([]any)
				container["env"] = append(list, map[string]any{"name": name, "value": n})
			}}
			add(m[2]+":"+tag, path+" (sync.py: "+name+")", Config, "started by KFP's profile controller in every profile namespace", at)
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

// envValues are a container's env values by name, where each is held (its value, or the
// ConfigMap key it is read from among objs).
func envValues(v any, objs []*unstructured.Unstructured, namespace string) map[string]slot {
	out := map[string]slot{}
	list, _ := v.([]any)
	for _, x := range list {
		e, _ := x.(map[string]any)
		name, _ := e["name"].(string)
		if val, ok := e["value"].(string); ok {
			out[name] = slot{raw: val, set: func(n string) { e["value"] = n }}
			continue
		}
		cm, _, _ := unstructured.NestedString(e, "valueFrom", "configMapKeyRef", "name")
		key, _, _ := unstructured.NestedString(e, "valueFrom", "configMapKeyRef", "key")
		i := slices.IndexFunc(objs, func(o *unstructured.Unstructured) bool {
			return o.GetKind() == "ConfigMap" && o.GetName() == cm && o.GetNamespace() == namespace
		})
		if cm == "" || i < 0 {
			continue
		}
		data, _ := objs[i].Object["data"].(map[string]any)
		if val, ok := data[key].(string); ok {
			out[name] = slot{raw: val, set: func(n string) { data[key] = n }}
		}
	}
	return out
}
