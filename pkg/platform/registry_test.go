package platform

import (
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// registryDoc is a platform file with every block that runs workloads, the spec-wide image
// registry and pull secrets first, then lines (each indented as given) added by the test.
const registryDoc = `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: a
spec:
  imageRegistry: mirror.example:5000/ai
  imagePullSecrets: [mirror-pull]
  storage:
    nfsServer: 192.0.2.10
    nfsPath: /nfsroot/kubeflow_nfs
  lb:
    addresses: [203.0.113.10/32]
  kubeflow:
    registrationFlow: true
  gpu:
    slicing: {replicas: 4}
  profiles:
    allProfiles: true
`

// registryOf is the image registry of the file's block name (nil when it has none).
func registryOf(t *testing.T, pl *Platform, name string) *images.Registry {
	t.Helper()
	b, ok := pl.Block(name)
	if !ok {
		t.Fatalf("no block %s", name)
	}
	ra, ok := b.Spec.(images.RegistryAware)
	if !ok {
		return nil
	}
	return ra.ImageRegistry()
}

// TestSpecWideRegistryIsEveryBlocksDefault: spec.imageRegistry and spec.imagePullSecrets reach
// each block that runs workloads and left them out; a block's own values win, each field on its
// own; blocks without the fields (profiles) are left alone and the keys are no section.
func TestSpecWideRegistryIsEveryBlocksDefault(t *testing.T) {
	pl, err := Parse("p.yaml", t.TempDir(), []byte(registryDoc))
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Blocks) != 5 {
		t.Fatalf("blocks %d, want the 5 sections declared", len(pl.Blocks))
	}
	for _, name := range []string{"storage", "lb", "kubeflow", "gpu"} {
		r := registryOf(t, pl, name)
		if r == nil || r.Registry != "mirror.example:5000/ai" || !slices.Equal(r.PullSecrets, []string{"mirror-pull"}) {
			t.Errorf("%s: registry %+v, want the spec-wide one", name, r)
		}
	}
	if r := registryOf(t, pl, "profiles"); r != nil {
		t.Errorf("profiles has image registry fields: %+v", r)
	}

	own := strings.Replace(registryDoc, "    nfsPath: /nfsroot/kubeflow_nfs\n", "    nfsPath: /nfsroot/kubeflow_nfs\n    imageRegistry: other.example/nfs\n", 1)
	own = strings.Replace(own, "    slicing: {replicas: 4}\n", "    slicing: {replicas: 4}\n    imagePullSecrets: [gpu-pull, nvcr]\n", 1)
	pl, err = Parse("p.yaml", t.TempDir(), []byte(own))
	if err != nil {
		t.Fatal(err)
	}
	if r := registryOf(t, pl, "storage"); r.Registry != "other.example/nfs" || !slices.Equal(r.PullSecrets, []string{"mirror-pull"}) {
		t.Errorf("storage: %+v, want its own registry and the spec-wide pull secret", r)
	}
	if r := registryOf(t, pl, "gpu"); r.Registry != "mirror.example:5000/ai" || !slices.Equal(r.PullSecrets, []string{"gpu-pull", "nvcr"}) {
		t.Errorf("gpu: %+v, want the spec-wide registry and its own pull secrets", r)
	}
	// Each block has its own copy of the spec-wide secrets.
	registryOf(t, pl, "lb").PullSecrets[0] = "changed"
	if r := registryOf(t, pl, "kubeflow"); r.PullSecrets[0] != "mirror-pull" {
		t.Errorf("the blocks share the spec-wide pull secrets: kubeflow has %v", r.PullSecrets)
	}

	// Without spec-wide values, the blocks' fields stay empty.
	none := strings.Replace(registryDoc, "  imageRegistry: mirror.example:5000/ai\n  imagePullSecrets: [mirror-pull]\n", "", 1)
	if pl, err = Parse("p.yaml", t.TempDir(), []byte(none)); err != nil {
		t.Fatal(err)
	}
	if r := registryOf(t, pl, "lb"); r.Enabled() {
		t.Errorf("lb: %+v, want no registry", r)
	}
}

// TestRegistryProblemsWithTheirLines: a registry that is not REGISTRY[/PREFIX] and a pull
// secret that is not a Secret name are usage errors at their field, spec-wide or in a block,
// and a bad spec-wide value is said once (not again in every block that would take it).
func TestRegistryProblemsWithTheirLines(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"scheme", "imageRegistry: mirror.example:5000/ai", "imageRegistry: https://x", []string{`p.yaml:6:18: spec.imageRegistry: "https://x": want REGISTRY[/PREFIX]`}},
		{"layout", "imageRegistry: mirror.example:5000/ai", "imageRegistry: oci:dir", []string{`p.yaml:6:18: spec.imageRegistry: "oci:dir" is a folder or a file`}},
		{"tag", "imageRegistry: mirror.example:5000/ai", "imageRegistry: mirror.example/ai:tag", []string{`p.yaml:6:18: spec.imageRegistry: "mirror.example/ai:tag": want REGISTRY[/PREFIX]`}},
		{"secret", "imagePullSecrets: [mirror-pull]", "imagePullSecrets: [mirror-pull, Mirror_Pull]", []string{`p.yaml:7:35: spec.imagePullSecrets[1]: "Mirror_Pull" is not a Secret name`}},
		{"block", "    registrationFlow: true\n", "    registrationFlow: true\n    imageRegistry: https://x\n    imagePullSecrets: [a_b]\n", []string{
			`p.yaml:15:20: spec.kubeflow.imageRegistry: "https://x": want REGISTRY[/PREFIX]`,
			`p.yaml:16:24: spec.kubeflow.imagePullSecrets[0]: "a_b" is not a Secret name`,
		}},
		{"type", "imageRegistry: mirror.example:5000/ai", "imageRegistry: [mirror.example]", []string{"p.yaml:6:18: spec.imageRegistry: "}},
		{"empty", "imageRegistry: mirror.example:5000/ai", `imageRegistry: ""`, []string{"p.yaml:6:18: spec.imageRegistry: "}},
		{"unknown", "imagePullSecrets: [mirror-pull]", "imagePullSecret: [mirror-pull]", []string{`p.yaml:7:3: spec.imagePullSecret: unknown field "imagePullSecret": did you mean "imagePullSecrets"?`}},
		{"singular", "imagePullSecrets: [mirror-pull]", "imagePullSecret: mirror-pull", []string{`p.yaml:7:3: spec.imagePullSecret: unknown field "imagePullSecret": did you mean "imagePullSecrets"?`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(registryDoc, tc.from, tc.to, 1)
			_, err := Parse("p.yaml", t.TempDir(), []byte(doc))
			if core.ExitCode(err) != core.ExitUsage {
				t.Fatalf("want exit code 2, got %v", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("missing %q in:\n%s", w, msg)
				}
			}
			if n := strings.Count(msg, "\n  p.yaml:"); n != len(tc.want) {
				t.Errorf("%d problems, want %d:\n%s", n, len(tc.want), msg)
			}
		})
	}
}

// TestSpecWideRegistryAloneIsNoSection: a spec that holds only the defaults declares nothing to
// run.
func TestSpecWideRegistryAloneIsNoSection(t *testing.T) {
	doc := "apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec:\n  imageRegistry: mirror.example\n"
	_, err := Parse("p.yaml", t.TempDir(), []byte(doc))
	if core.ExitCode(err) != core.ExitUsage || !strings.Contains(err.Error(), "p.yaml:5:3: spec: declares no section: give at least one block of storage") {
		t.Fatalf("want a usage error at spec, got %v", err)
	}
}

// TestRegistryInTheRecordedBlock: a block is recorded as YAML (sigs.k8s.io/yaml, json names)
// with imageRegistry and imagePullSecrets at its top level, and that block parses back.
func TestRegistryInTheRecordedBlock(t *testing.T) {
	s := &storage.Spec{NFSServer: "192.0.2.10", NFSPath: "/x", Registry: images.Registry{Registry: "mirror.example:5000/ai", PullSecrets: []string{"mirror-pull"}}}
	s.Default()
	out, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	block := string(out)
	for _, w := range []string{"\nimageRegistry: mirror.example:5000/ai\n", "\nimagePullSecrets:\n- mirror-pull\n"} {
		if !strings.Contains("\n"+block, w) {
			t.Errorf("recorded block lacks %q:\n%s", w, block)
		}
	}
	doc := "apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec:\n  storage:\n    " + strings.ReplaceAll(strings.TrimSpace(block), "\n", "\n    ") + "\n"
	pl, err := Parse("p.yaml", t.TempDir(), []byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if r := registryOf(t, pl, "storage"); r.Registry != s.Registry.Registry || !slices.Equal(r.PullSecrets, s.PullSecrets) {
		t.Fatalf("read back %+v", r)
	}
}
