package images

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sandboxComponents run only with the ClusterPolicy's sandboxWorkloads enabled (VMs and Kata).
var sandboxComponents = map[string]bool{
	"vgpuManager": true, "vgpuDeviceManager": true, "vfioManager": true, "sandboxDevicePlugin": true,
	"kataManager": true, "kataSandboxDevicePlugin": true, "ccManager": true,
}

// scanClusterPolicy adds the images of the gpu-operator's components that the ClusterPolicy
// enables: each is spec.<component>.{repository,image,version} (and nested ones such as
// driver.manager), as the operator joins them: repository/image:version, @version for a digest,
// the image alone when neither repository nor version is set. The driver's tag gets each GPU
// node's OS appended at run time.
func (sc *Scanner) scanClusterPolicy(o *unstructured.Unstructured, add addFunc) {
	spec, _ := o.Object["spec"].(map[string]any) // not NestedMap: that is a copy, the rewrite sets in place
	sandbox, _, _ := unstructured.NestedBool(spec, "sandboxWorkloads", "enabled")
	for name, v := range spec {
		m, ok := v.(map[string]any)
		if !ok || disabled(m) || (sandboxComponents[name] && !sandbox) {
			continue
		}
		path := "spec." + name
		sc.component(name, path, m, add)
		for sub, sv := range m {
			if sm, ok := sv.(map[string]any); ok && !disabled(sm) {
				sc.component(name+"."+sub, path+"."+sub, sm, add)
			}
		}
	}
}

// disabled tells whether a component says enabled: false.
func disabled(m map[string]any) bool {
	on, ok := m["enabled"].(bool)
	return ok && !on
}

// component adds one ClusterPolicy component's image.
func (sc *Scanner) component(name, path string, m map[string]any, add addFunc) {
	image, _ := m["image"].(string)
	if image == "" {
		return
	}
	repo, _ := m["repository"].(string)
	version := ""
	if v, ok := m["version"]; ok && v != nil {
		version = fmt.Sprint(v)
	}
	ref := image
	switch {
	case repo == "" && version == "":
	case strings.HasPrefix(version, "sha256:"):
		ref = strings.TrimSuffix(repo, "/") + "/" + image + "@" + version
	default:
		if repo != "" {
			ref = strings.TrimSuffix(repo, "/") + "/" + image
		}
		if version != "" {
			ref += ":" + version
		}
	}
	field := path + ".{repository,image,version}"
	at := componentSlot(m, repo, image)
	if sc.rewrite != nil && len(sc.rewrite.PullSecrets) > 0 {
		m["imagePullSecrets"] = mergeNames(m["imagePullSecrets"], sc.rewrite.PullSecrets)
	}
	if name != "driver" || strings.Contains(ref, "@") {
		add(ref, field, Operator, "", at)
		return
	}
	if pre, _ := m["usePrecompiled"].(bool); pre {
		add(ref, field, Operator, "precompiled: the operator completes the tag with each GPU node's kernel and OS", at)
		return
	}
	if len(sc.DriverOS) == 0 {
		add(ref, field, Operator, "the operator appends each GPU node's OS to the tag (e.g. -ubuntu22.04); no GPU node's OS is known yet (node-feature-discovery labels)", at)
		return
	}
	for _, osName := range sc.DriverOS {
		add(ref+"-"+osName, field, Operator, "tag completed with a GPU node's OS, as the operator does", at)
	}
}

// componentSlot is where a component's image is held for the rewrite: its repository (the
// repository joined with the image name, mapped, less the image name), or the image itself when
// no repository is set.
func componentSlot(m map[string]any, repo, image string) slot {
	if repo == "" {
		return slot{raw: image, set: func(n string) { m["image"] = n }}
	}
	raw := strings.TrimSuffix(repo, "/") + "/" + image
	return slot{raw: raw, set: func(n string) {
		if r, ok := strings.CutSuffix(n, "/"+image); ok {
			m["repository"] = r
		}
	}}
}

// mergeNames adds names to a list of names (the ClusterPolicy's imagePullSecrets), each once.
func mergeNames(list any, names []string) []any {
	out, _ := list.([]any)
	for _, n := range names {
		if !slices.Contains(out, any(n)) {
			out = append(out, n)
		}
	}
	return out
}
