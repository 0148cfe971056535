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
	add := func(image, field string, origin Origin, note string) {
		sc.List.Add(image, Source{Section: section, Object: ref, Field: field, Origin: origin, Note: note})
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
	walk(o.Object, "", func(path, key string, v any) {
		s, ok := v.(string)
		if !ok {
			return
		}
		switch {
		case key == "image" && inContainerList(path):
			add(s, path, podOrigin, "")
		case key == "image":
			add(s, path, Config, "")
		}
	})
	walk(o.Object, "", func(path, key string, v any) {
		if !inContainerList(path + ".") {
			return
		}
		switch key {
		case "args", "command":
			for i, flagImage := range imageFlags(v) {
				add(flagImage, fmt.Sprintf("%s[%d]", path, i), Config, "")
			}
		case "env":
			envImages(v, path, all, o.GetNamespace(), add)
		}
	})
	scanProfileController(o, all, add)
}

// objectRef is Kind/name or Kind/namespace/name.
func objectRef(o *unstructured.Unstructured) string {
	if ns := o.GetNamespace(); ns != "" {
		return o.GetKind() + "/" + ns + "/" + o.GetName()
	}
	return o.GetKind() + "/" + o.GetName()
}

// walk calls fn for every value in a map in v with its path (a.b[name].c, list items by their
// name when they have one, else by index) and its key.
func walk(v any, path string, fn func(path, key string, v any)) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			fn(p, k, x)
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
func imageFlags(v any) map[int]string {
	list, _ := v.([]any)
	out := map[int]string{}
	for i, x := range list {
		s, _ := x.(string)
		if !strings.HasPrefix(s, "-") {
			continue
		}
		flag, val, hasVal := strings.Cut(strings.TrimLeft(s, "-"), "=")
		if !imageKey(flag) {
			continue
		}
		if !hasVal && i+1 < len(list) {
			val, _ = list[i+1].(string)
		}
		out[i] = val
	}
	return out
}
