package kustomize

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestBuildKubeflowExamples builds the real Kubeflow manifests in process and checks the object
// counts measured with kustomize v5 (628 for v1.5.0, 611 for v1.10.2).
func TestBuildKubeflowExamples(t *testing.T) {
	for _, tc := range []struct {
		archive string
		want    int
	}{{"kubeflow/manifests-1.5.0.tar.gz", 628}, {"kubeflow/manifests-1.10.2.tar.gz", 611}} {
		t.Run(tc.archive, func(t *testing.T) {
			top, err := ExtractTarGz(testbed.Fixture(t, tc.archive), t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			objs, err := Build(filepath.Join(top, "example"))
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tc.want {
				t.Fatalf("built %d objects, want %d", len(objs), tc.want)
			}
		})
	}
}

func TestExtractRejectsCorruptArchive(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	if err := os.WriteFile(bad, []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractTarGz(bad, t.TempDir()); err == nil {
		t.Fatal("corrupt archive accepted")
	}
}

// TestBuildObjectsDeepCopy proves built objects hold JSON types only (the apply engine deep-copies
// them; YAML's int would panic).
func TestBuildObjectsDeepCopy(t *testing.T) {
	top, err := ExtractTarGz(testbed.Fixture(t, "kubeflow/manifests-1.10.2.tar.gz"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Build(filepath.Join(top, "example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), r)
				}
			}()
			o.DeepCopy()
		}()
	}
}
