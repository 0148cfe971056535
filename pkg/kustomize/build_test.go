package kustomize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// TestBuildKubeflowExamples builds the real Kubeflow manifests in process and checks the object
// counts measured with kustomize v5 (628 for v1.5.0, 611 for v1.10.2).
func TestBuildKubeflowExamples(t *testing.T) {
	for _, tc := range []struct {
		archive string
		want    int
	}{{"kubeflow/manifests-1.5.0.tar.gz", 628}, {"kubeflow/manifests-1.10.2.tar.gz", 611}} {
		t.Run(tc.archive, func(t *testing.T) {
			objs, err := BuildFS(extractFixture(t, tc.archive), "/m/example")
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
	if _, err := ExtractTarGzFS([]byte("not an archive"), filesys.MakeFsInMemory(), "/m"); err == nil {
		t.Fatal("corrupt archive accepted")
	}
	if _, err := ArchiveTop([]byte("not an archive")); err == nil {
		t.Fatal("corrupt archive's top accepted")
	}
}

// TestBuildObjectsDeepCopy proves built objects hold JSON types only (the apply engine deep-copies
// them; YAML's int would panic).
func TestBuildObjectsDeepCopy(t *testing.T) {
	fs := extractFixture(t, "kubeflow/manifests-1.10.2.tar.gz")
	objs, err := BuildFS(fs, "/m/example")
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

// extractFixture unpacks a fixture archive into memory under /m, checking its top folder is the
// archive's name (manifests-1.10.2 for manifests-1.10.2.tar.gz).
func extractFixture(t *testing.T, archive string) filesys.FileSystem {
	t.Helper()
	data, err := os.ReadFile(testbed.Fixture(t, archive))
	if err != nil {
		t.Fatal(err)
	}
	fs := filesys.MakeFsInMemory()
	top, err := ExtractTarGzFS(data, fs, "/m")
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSuffix(filepath.Base(archive), ".tar.gz"); top != want {
		t.Fatalf("%s: top folder %q, want %q", archive, top, want)
	}
	if first, err := ArchiveTop(data); err != nil || first != top {
		t.Fatalf("%s: ArchiveTop = %q, %v; want %q", archive, first, err, top)
	}
	return fs
}
