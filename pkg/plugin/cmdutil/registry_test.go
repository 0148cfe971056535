package cmdutil

import (
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

func TestImageRegistryFlags(t *testing.T) {
	var r images.Registry
	cmd := &cobra.Command{Use: "x"}
	AddImageRegistryFlags(cmd, &r)
	if err := cmd.ParseFlags([]string{"--image-registry", "mirror.example:5000/ai", "--image-pull-secret", "a,b", "--image-pull-secret", "c"}); err != nil {
		t.Fatal(err)
	}
	// A Secret name holds no comma: each --image-pull-secret is one name, as given.
	if r.Registry != "mirror.example:5000/ai" || !slices.Equal(r.PullSecrets, []string{"a,b", "c"}) {
		t.Fatalf("bound %+v", r)
	}
	if ps := r.Validate(); len(ps) != 1 || ps[0].Field != "imagePullSecrets[0]" {
		t.Fatalf("problems %v", ps)
	}
	for field, want := range map[string]string{"imageRegistry": "--image-registry", "imagePullSecrets": "--image-pull-secret", "imagePullSecrets[2]": "--image-pull-secret"} {
		if got, ok := ImageRegistryFlag(field); !ok || got != want {
			t.Errorf("ImageRegistryFlag(%q) = %q, %v; want %q", field, got, ok, want)
		}
	}
	if _, ok := ImageRegistryFlag("chart.version"); ok {
		t.Error("ImageRegistryFlag names a field of another group")
	}
}
