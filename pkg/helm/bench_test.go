package helm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// BenchmarkRerun compares a re-run of an installed release: Ensure (which finds it unchanged and
// writes nothing) against what a user would otherwise run, `helm upgrade --install` with the same
// chart and values (which always makes a new revision). Both on the same test bed, same chart
// repository served on loopback:
//
//	go test ./pkg/helm/ -run '^$' -bench Rerun -benchtime 10x
func BenchmarkRerun(b *testing.B) {
	root, err := testbed.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	helmBin := filepath.Join(root, ".testbin", "tools", "helm")
	if _, err := os.Stat(helmBin); err != nil {
		b.Skipf("helm CLI missing at %s: run `make testbin`", helmBin)
	}
	repoURL := testbed.ChartRepo(b)
	bed := testbed.StartT(b, testbed.Options{})
	c := NewClient(bed.ConfigFlags(), output.NewProgress(&syncBuffer{}))
	c.CacheDir = b.TempDir()
	h := &helmBed{repoURL: repoURL}
	const ns = "nfs-bench"
	s := h.nfsSpec(ns)
	if _, _, err := c.Ensure(context.Background(), s); err != nil {
		b.Fatal(err)
	}

	b.Run("ensure", func(b *testing.B) {
		for b.Loop() {
			res, _, err := c.Ensure(context.Background(), s)
			if err != nil || res.Action != output.Unchanged {
				b.Fatalf("%s %v", res.Line(), err)
			}
		}
	})

	home := b.TempDir()
	b.Run("helm-upgrade-install", func(b *testing.B) {
		for b.Loop() {
			cmd := exec.Command(helmBin, "upgrade", "--install", nfsChart, nfsChart, "--repo", repoURL, "--version", "4.0.18",
				"-n", ns, "--set", "nfs.server=127.0.0.1", "--set", "nfs.path=/exports", "--set", "storageClass.name=nfs-"+ns)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+bed.Kubeconfig, "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
				"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"))
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("helm: %v\n%s", err, out)
			}
		}
	})
}
