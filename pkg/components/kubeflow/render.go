package kubeflow

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Render builds the release Apply would install (the same build, cached), and, when the
// upgrade Prepare found copies the pipelines' artifacts from minio to SeaweedFS, the copy Job.
// The intermediate releases of a multi-hop upgrade run for the upgrade's length only and are not
// included.
func (k kubeflowSection) Render(ctx context.Context, r *section.Run, s section.Spec) (*section.Rendered, error) {
	spec := s.(*Spec)
	if spec.built == nil {
		if err := k.Build(ctx, r, spec); err != nil {
			return nil, err
		}
	}
	if err := spec.built.CompleteAll(); err != nil {
		return nil, err
	}
	out := &section.Rendered{Objects: spec.built.Objects}
	if spec.upgrade != nil && slices.ContainsFunc(spec.upgrade.hops, copies) {
		job, err := kube.AsUnstructured(copyJob())
		if err != nil {
			return nil, err
		}
		out.Started = []*unstructured.Unstructured{job}
	}
	return out, nil
}
