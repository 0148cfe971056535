package images

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Rewrite sets every image reference the scan finds in objs (pod templates, the configs that
// start pods at run time, the ClusterPolicy) to its name in the registry, as `images mirror`
// copied it, and adds the pull secrets to the workloads' pod templates (and the ClusterPolicy's
// components). It changes objs in place; a reference already in the registry stays. The list
// and the rewrite are the same scan, so nothing `images` lists is left out of the rewrite
// except where a reference cannot be set where it is found (none today).
func (r Registry) Rewrite(objs []*unstructured.Unstructured) error {
	if !r.Enabled() {
		return nil
	}
	sc := &Scanner{rewrite: &r}
	sc.Scan("", objs, false)
	return sc.err
}

// podSpecPaths are where the workload kinds hold their pod spec.
var podSpecPaths = map[string][]string{
	"Pod":         {"spec"},
	"Deployment":  {"spec", "template", "spec"},
	"StatefulSet": {"spec", "template", "spec"},
	"DaemonSet":   {"spec", "template", "spec"},
	"ReplicaSet":  {"spec", "template", "spec"},
	"Job":         {"spec", "template", "spec"},
	"CronJob":     {"spec", "jobTemplate", "spec", "template", "spec"},
}

// addPullSecrets names secrets in the imagePullSecrets of o's pod spec, when o is a workload
// of the core kinds (a custom resource's schema may not have the field).
func addPullSecrets(o *unstructured.Unstructured, secrets []string) {
	path, ok := podSpecPaths[o.GetKind()]
	if g := o.GroupVersionKind().Group; !ok || len(secrets) == 0 || (g != "" && g != "apps" && g != "batch") {
		return
	}
	spec, found, _ := unstructured.NestedMap(o.Object, path...)
	if !found {
		return
	}
	list, _ := spec["imagePullSecrets"].([]any)
	for _, s := range secrets {
		has := false
		for _, x := range list {
			if m, _ := x.(map[string]any); m["name"] == s {
				has = true
			}
		}
		if !has {
			list = append(list, map[string]any{"name": s})
		}
	}
	_ = unstructured.SetNestedSlice(o.Object, list, append(path, "imagePullSecrets")...)
}

// RewritePodSpec is Rewrite for a pod spec the plugin builds itself (a smoke test, a data
// copy): each container's image mapped to the registry, the pull secrets named.
func (r Registry) RewritePodSpec(spec *corev1.PodSpec) error {
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			mapped, err := r.MapRef(list[i].Image)
			if err != nil {
				return fmt.Errorf("container %s: image %q: %w", list[i].Name, list[i].Image, err)
			}
			list[i].Image = mapped
		}
	}
	for _, s := range r.PullSecrets {
		if !slices.Contains(spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s}) {
			spec.ImagePullSecrets = append(spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
		}
	}
	return nil
}
