package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// BenchmarkStorageRerun compares, on the test bed, a re-run of `storage` on an installed cluster
// (nothing to change) with what a user runs by hand for the same section: `helm upgrade --install`
// from the same chart repository with --wait, then `kubectl patch` of the default annotation.
//
//	go test ./test/e2e/ -run '^$' -bench BenchmarkStorageRerun -benchtime 5x
func BenchmarkStorageRerun(b *testing.B) {
	c := testbed.StartT(b, testbed.Options{StandIns: []testbed.StandIn{standins.NewNFSProvisioner()}})
	repo := testbed.ChartRepo(b)
	bin := testbed.PluginBinary(b)
	dir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		b.Fatal(err)
	}
	helm := filepath.Join(filepath.Dir(dir), "tools", "helm")
	if _, err := os.Stat(helm); err != nil {
		b.Skipf("helm not built in %s: run `make testbin`", filepath.Dir(helm))
	}
	kubectl := testbed.Kubectl(b)
	home := b.TempDir()
	env := c.Env("NO_COLOR=1",
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CACHE_HOME="+filepath.Join(home, "xdg"))
	run := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %v: %v\n%s", filepath.Base(name), args, err, out)
		}
	}
	run(bin, "storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", nfsPath)

	b.Run("plugin", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run(bin, "storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", nfsPath)
		}
	})
	b.Run("helm+kubectl", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run(helm, "upgrade", "--install", storage.ReleaseName, storage.ChartName, "--repo", repo, "--version", versions.NFSProvisioner.DefaultOn(versions.LastMinor).Version,
				"-n", nfsNS, "--create-namespace", "--wait", "--reset-values",
				"--set", "nfs.server="+nfsServer, "--set", "nfs.path="+nfsPath, "--set", "storageClass.name="+storage.DefaultClass, "--set", "storageClass.defaultClass=true")
			run(kubectl, "patch", "storageclass", storage.DefaultClass, "-p", `{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}`)
		}
	})
}
