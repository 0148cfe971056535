package gpu

import (
	"context"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestHookImagesFromTheRegistry renders the gpu-operator chart (the fixture, API-server-only
// bed) as operatorRelease sends it with a registry: helm does not post-render hooks, so every
// hook's images must come from the values hookImages computes from the chart's defaults.
func TestHookImagesFromTheRegistry(t *testing.T) {
	repo := testbed.ChartRepo(t)
	bed := testbed.StartT(t, testbed.Options{})
	h := helm.NewClient(bed.ConfigFlags(), output.NewProgress(nil))
	h.CacheDir = t.TempDir()
	reg := images.Registry{Registry: "127.0.0.1:5999/mirror"}
	spec, err := operatorRelease(h, OperatorSpec{ReleaseNamespace: DefaultNamespace, Chart: core.ChartSource{Repo: repo, Version: "v26.7.0"}}, reg)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := h.Render(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	hooks := 0
	for _, o := range rel.Objects {
		if o.GetAnnotations()["helm.sh/hook"] == "" {
			continue
		}
		cts, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, c := range cts {
			hooks++
			if image, _ := c.(map[string]any)["image"].(string); !strings.HasPrefix(image, reg.Registry+"/") {
				t.Errorf("hook %s %s runs %s, outside the registry", o.GetKind(), o.GetName(), image)
			}
		}
	}
	if hooks < 3 { // the CRD upgrade, the cleanups, node-feature-discovery's prune Job
		t.Fatalf("only %d hook containers rendered", hooks)
	}
}
