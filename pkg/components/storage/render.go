package storage

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Render renders the provisioner's chart at the version Apply would pick, and the smoke test's
// pod when the spec runs it.
func (storageSection) Render(ctx context.Context, r *section.Run, s section.Spec) (*section.Rendered, error) {
	given, err := specOf(s)
	if err != nil {
		return nil, err
	}
	spec := *given
	server, err := r.ServerVersion()
	if err != nil {
		return nil, core.Wrapf(err, "storage")
	}
	if err := versions.NFSProvisioner.Resolve(server, &spec.Chart, r.Progress.Logf); err != nil {
		return nil, err
	}
	rel, err := r.Helm.Render(ctx, releaseSpec(&spec))
	if err != nil {
		return nil, core.Wrapf(err, "storage")
	}
	out := &section.Rendered{Objects: rel.Objects}
	if spec.SmokeTest {
		pod, err := kube.AsUnstructured(smokePod("flexigrobots-smoke", spec.ReleaseNamespace, nil))
		if err != nil {
			return nil, err
		}
		out.Started = []*unstructured.Unstructured{pod}
	}
	return out, nil
}
