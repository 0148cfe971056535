package section

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Rendered is what a section would run on the cluster, for `images`: the objects it would apply
// (rendered charts and manifests, with the versions and values an apply would use) and the pods
// or Jobs the plugin itself starts at run time (a smoke test, a data copy).
type Rendered struct {
	Objects []*unstructured.Unstructured
	Started []*unstructured.Unstructured
	// NodeOS are the operating systems of the nodes an operator completes an image's tag for
	// ("ubuntu22.04": the gpu-operator's driver), as the nodes' labels give them.
	NodeOS []string
}

// Renderer is a Section that can render what it would apply without changing anything: it
// reads the cluster (the server's version, the deployed releases) but writes nothing. Call it
// after Prepare.
type Renderer interface {
	Section
	Render(ctx context.Context, r *Run, s Spec) (*Rendered, error)
}
