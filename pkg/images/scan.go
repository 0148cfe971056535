package images

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Scanner finds the images in objects and adds them to List.
type Scanner struct {
	List List
	// rewrite, when set, makes the scan set every reference it finds to its name in the
	// registry (see Registry.Rewrite); err keeps the first reference that would not map.
	rewrite *Registry
	err     error
	// DriverOS are the operating systems of the GPU nodes, as the gpu-operator names them
	// ("ubuntu22.04": node-feature-discovery's os_release ID and VERSION_ID). The operator
	// appends one to the driver image's tag per node; empty when no node says.
	DriverOS []string
}

// Scan adds the images of objs, which section would apply; started marks objects the plugin
// itself creates at run time (origin Plugin instead of PodSpec).
func (sc *Scanner) Scan(section string, objs []*unstructured.Unstructured, started bool) {
	for _, o := range objs {
		sc.scanObject(section, o, objs, started)
	}
}

func (sc *Scanner) scanObject(section string, o *unstructured.Unstructured, all []*unstructured.Unstructured, started bool) {
	ref := objectRef(o)
	add := func(image, field string, origin Origin, note string, at slot) {
		if !sc.List.Add(image, Source{Section: section, Object: ref, Field: field, Origin: origin, Note: note}) {
			return
		}
		sc.set(at, ref+" "+field)
	}
	switch o.GetKind() {
	case "CustomResourceDefinition":
		return // schemas and examples, nothing that runs
	case "ConfigMap":
		scanConfigMap(o, add)
		return
	case "ClusterPolicy":
		if o.GroupVersionKind().Group == "nvidia.com" {
			sc.scanClusterPolicy(o, add)
			return
		}
	}
	podOrigin := PodSpec
	if started {
		podOrigin = Plugin
	}
	walk(o.Object, "", func(path, key string, v any, parent map[string]any) {
		s, ok := v.(string)
		if !ok || key != "image" || s == istioAuto {
			return
		}
		at := slot{raw: s, set: func(n string) { parent[key] = n }}
		if inContainerList(path) {
			add(s, path, podOrigin, "", at)
		} else {
			add(s, path, Config, "", at)
		}
	})
	walk(o.Object, "", func(path, key string, v any, parent map[string]any) {
		if !inContainerList(path + ".") {
			return
		}
		switch key {
		case "args", "command":
			for i, f := range imageFlags(v) {
				add(f.raw, fmt.Sprintf("%s[%d]", path, i), Config, "", f)
			}
		case "env":
			envImages(v, path, all, o.GetNamespace(), add)
		}
	})
	scanProfileController(o, all, add)
	if sc.rewrite != nil {
		addPullSecrets(o, sc.rewrite.PullSecrets)
	}
}

// hubProbe is the image name a hub is mapped with.
const hubProbe = "image"

// istioAuto is the image istio's injector replaces with its proxy (gateways' "image: auto").
const istioAuto = "auto"

// slot is where a found reference is held: raw is the value as the object holds it (a
// repository without a tag where the tag is set apart, e.g. KFP's X_IMAGE with X_TAG, or the
// gpu-operator's repository), set replaces it; set is nil where it cannot be replaced.
type slot struct {
	raw string
	set func(string)
	// hub: raw is a registry path that image names are joined to (istio's global.hub), not an
	// image: "docker.io/istio" maps as its images do, not as Docker Hub's library/istio.
	hub bool
}

// set replaces the reference at with its name in the registry, when the scan rewrites.
func (sc *Scanner) set(at slot, where string) {
	if sc.rewrite == nil || at.set == nil {
		return
	}
	raw := at.raw
	if at.hub {
		raw += "/" + hubProbe
	}
	mapped, err := sc.rewrite.MapRef(raw)
	mapped = strings.TrimSuffix(mapped, "/"+hubProbe)
	if err != nil {
		if sc.err == nil {
			sc.err = fmt.Errorf("%s: image %q: %w", where, at.raw, err)
		}
		return
	}
	if mapped != at.raw {
		at.set(mapped)
	}
}

// objectRef is Kind/name or Kind/namespace/name.
func objectRef(o *unstructured.Unstructured) string {
	if ns := o.GetNamespace(); ns != "" {
		return o.GetKind() + "/" + ns + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetName()
}

// walk calls fn for every value in a map in v with its path (a.b[name].c, list items by their
// name when they have one, else by index), its key and the map that holds it.
func walk(v any, path string, fn func(path, key string, v any, parent map[string]any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			fn(p, k, x, t)
			walk(x, p, fn)
		}
	case []any:
		for i, x := range t {
			p := fmt.Sprintf("%s[%d]", path, i)
			if m, ok := x.(map[string]any); ok {
				if n, ok := m["name"].(string); ok && n != "" {
					p = fmt.Sprintf("%s[%s]", path, n)
				}
			}
			walk(x, p, fn)
		}
	}
}

// containerLists are the fields of a pod spec that hold containers.
var containerLists = regexp.MustCompile(`(^|\.)(containers|initContainers|ephemeralContainers)\[[^\]]+\]\.`)

// inContainerList tells whether path is inside a container of a pod spec (or any list of
// containers, as serving and training runtimes hold them).
func inContainerList(path string) bool { return containerLists.MatchString(path) }

// imageKey tells whether a setting's name says it holds an image: "image", "cacheImage",
// "queue-sidecar-image", "V2_DRIVER_IMAGE", "defaultJobImage", the Jupyter web app's
// "imageGroupOne".
func imageKey(k string) bool {
	l := strings.ToLower(k)
	return strings.HasSuffix(l, "image") || strings.HasPrefix(l, "imagegroup")
}

// imageFlags are the values of --*-image flags in a container's args or command
// ("--executor-image=X" or "--executor-image", "X"), by the index of the flag.
func imageFlags(v any) map[int]slot {
	list, _ := v.([]any)
	out := map[int]slot{}
	for i, x := range list {
		s, _ := x.(string)
		if !strings.HasPrefix(s, "-") {
			continue
		}
		name, val, hasVal := strings.Cut(s, "=")
		if !imageKey(strings.TrimLeft(name, "-")) {
			continue
		}
		switch {
		case hasVal:
			out[i] = slot{raw: val, set: func(n string) { list[i] = name + "=" + n }}
		case i+1 < len(list):
			val, _ = list[i+1].(string)
			out[i] = slot{raw: val, set: func(n string) { list[i+1] = n }}
		}
	}
	return out
}
