// Package kustomize builds kustomizations in process with the kustomize API (no kustomize binary)
// and unpacks manifest archives.
package kustomize

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// BuildFS runs `kustomize build dir` on fs (an in-memory copy lets callers edit files before the
// build) and returns the objects in the order kustomize emits them.
func BuildFS(fs filesys.FileSystem, dir string) ([]*unstructured.Unstructured, error) {
	opts := krusty.MakeDefaultOptions()
	// Kubeflow's manifests use legacy sort order and load files from parent folders.
	opts.LoadRestrictions = 0 // LoadRestrictionsNone
	k := krusty.MakeKustomizer(opts)
	resMap, err := k.Run(fs, dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	out := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, r := range resMap.Resources() {
		// Through JSON: r.Map() keeps YAML's int values, which unstructured cannot DeepCopy.
		data, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("kustomize build %s: %s: %w", dir, r.CurId(), err)
		}
		out = append(out, u)
	}
	return out, nil
}
