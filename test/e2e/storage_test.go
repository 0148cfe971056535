package e2e

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const (
	nfsNS     = storage.DefaultNamespace
	nfsServer = "127.0.0.1" // only data here: nothing on the test bed mounts it
	nfsPath   = "/nfsroot/kubeflow_nfs"
)

func TestStorage(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{StandIns: []testbed.StandIn{standins.NewNFSProvisioner()}})
	repo := testbed.ChartRepo(t)
	ctx := context.Background()

	t.Run("bad input exits 2 and changes nothing", func(t *testing.T) {
		before := storageState(t, c)
		cases := []struct {
			name string
			args []string
			want string
		}{
			{"missing server", []string{"storage", "--chart-repo", repo, "--nfs-path", nfsPath}, "--nfs-server: is required"},
			{"empty server", []string{"storage", "--chart-repo", repo, "--nfs-server", " ", "--nfs-path", nfsPath}, "--nfs-server: is required"},
			{"server not a host", []string{"storage", "--chart-repo", repo, "--nfs-server", "nfs server", "--nfs-path", nfsPath}, "neither an IP address nor a host name"},
			{"missing path", []string{"storage", "--chart-repo", repo, "--nfs-server", nfsServer}, "--nfs-path: is required"},
			{"relative path", storageArgsWithPath(repo, "nfsroot/kubeflow"), "is relative"},
			{"path with space", storageArgsWithPath(repo, "/nfs root/kubeflow"), "space or a comma"},
			{"path with comma", storageArgsWithPath(repo, "/nfsroot/a,b"), "space or a comma"},
			{"unknown chart version", storageArgs(repo, "--chart-version", "9.9.9"), `no version "9.9.9"`},
			{"class not DNS-1123", storageArgs(repo, "--storage-class", "NFS_Client"), "not a valid StorageClass name"},
			{"bad namespace", storageArgs(repo, "--release-namespace", "nfs.provisioner"), "not a valid namespace name"},
			{"bad dry-run", storageArgs(repo, "--dry-run=maybe"), "invalid --dry-run"},
			{"bad --set", storageArgs(repo, "--set", "nfs.path"), `--set: "nfs.path": want key=value`},
			{"exports relative path", []string{"storage", "exports", "--nfs-path", "srv"}, "is relative"},
			{"exports bad mask", []string{"storage", "exports", "--nfs-path", nfsPath, "--mask", "8"}, "--mask 8"},
			{"exports missing file", []string{"storage", "exports", "--nfs-path", nfsPath, "--check", filepath.Join(t.TempDir(), "none")}, "--check"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := runPlugin(t, c, tc.args...)
				if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
					t.Fatalf("want exit 2 with %q on stderr, got %d: %s", tc.want, r.code, r.stderr)
				}
			})
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, nfsNS, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("namespace %s exists after bad input (err %v)", nfsNS, err)
		}
		if after := storageState(t, c); !maps.Equal(before, after) {
			t.Fatalf("bad input changed the cluster: before %v, after %v", before, after)
		}
	})

	// Two default classes already there, one with each annotation: both must be demoted.
	createClass(t, c, "standard", cluster.DefaultClassAnnotation)
	createClass(t, c, "legacy", cluster.BetaDefaultClassAnnotation)

	t.Run("dry run reports and changes nothing", func(t *testing.T) {
		before := storageState(t, c)
		for _, mode := range []string{"client", "server"} {
			r := runPlugin(t, c, storageArgs(repo, "--dry-run="+mode)...)
			if r.code != 0 {
				t.Fatalf("--dry-run=%s: exit %d", mode, r.code)
			}
			for _, want := range []string{"helmrelease/nfs-subdir-external-provisioner installed (" + mode + " dry run)", "storageclass/standard configured (" + mode + " dry run) [demoted"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("--dry-run=%s: stdout lacks %q", mode, want)
				}
			}
		}
		if after := storageState(t, c); !maps.Equal(before, after) {
			t.Fatalf("dry run changed the cluster:\nbefore %v\nafter  %v", before, after)
		}
		if _, err := c.Client.CoreV1().Namespaces().Get(ctx, nfsNS, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Fatalf("dry run created namespace %s (err %v)", nfsNS, err)
		}
	})

	t.Run("first run installs and demotes the other defaults", func(t *testing.T) {
		r := runPlugin(t, c, storageArgs(repo)...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		for _, want := range []string{
			"helmrelease/nfs-subdir-external-provisioner installed [namespace nfs-provisioner, chart nfs-subdir-external-provisioner-4.0.18]",
			"storageclass/standard configured [demoted",
			"storageclass/legacy configured [demoted",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q", want)
			}
		}
		nfs := getClass(t, c, storage.DefaultClass)
		if nfs.Provisioner != "cluster.local/nfs-subdir-external-provisioner" || nfs.Annotations[cluster.DefaultClassAnnotation] != "true" {
			t.Errorf("class %s: provisioner %s, annotations %v", nfs.Name, nfs.Provisioner, nfs.Annotations)
		}
		for _, name := range []string{"standard", "legacy"} {
			sc := getClass(t, c, name)
			if cluster.IsDefaultClass(*sc) || sc.Annotations[cluster.DefaultClassAnnotation] != "false" || sc.Annotations[cluster.BetaDefaultClassAnnotation] != "false" {
				t.Errorf("class %s not demoted: %v", name, sc.Annotations)
			}
		}
		dep, err := c.Client.AppsV1().Deployments(nfsNS).Get(ctx, storage.ReleaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := envOf(dep, "NFS_PATH") + " " + envOf(dep, "NFS_SERVER"); got != nfsPath+" "+nfsServer {
			t.Errorf("provisioner env NFS_PATH NFS_SERVER = %q", got)
		}
	})

	t.Run("second run is unchanged and writes nothing", func(t *testing.T) {
		before := storageState(t, c)
		r := runPlugin(t, c, storageArgs(repo, "-o", "json")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		rep := reportOf(t, r)
		if len(rep.Results) == 0 {
			t.Fatal("no results")
		}
		for _, x := range rep.Results {
			if x.Action != output.Unchanged {
				t.Errorf("%s: %s, want unchanged", x.Line(), x.Action)
			}
		}
		table := runPlugin(t, c, storageArgs(repo)...)
		for _, line := range strings.Split(strings.TrimSpace(table.stdout), "\n") {
			if first, _, _ := strings.Cut(line, " "); strings.Contains(first, "/") && !strings.Contains(line, " unchanged") {
				t.Errorf("table line not unchanged: %q", line)
			}
		}
		if after := storageState(t, c); !maps.Equal(before, after) {
			t.Fatalf("resourceVersions moved:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("a private HTTPS mirror with basic auth: refused without its CA, unchanged with it", func(t *testing.T) {
		const password = "mirror-password-never-printed"
		mirror, ca := testbed.ChartRepoTLS(t, "mirror", password)
		dir := t.TempDir()
		caFile, pwFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "password")
		if err := os.WriteFile(caFile, ca, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := storageState(t, c)
		r := runPlugin(t, c, storageArgs(mirror, "--chart-username", "mirror", "--chart-password-file", pwFile)...)
		if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
			t.Fatalf("untrusted mirror: exit %d, want 1 naming the certificate", r.code)
		}
		r = runPlugin(t, c, storageArgs(mirror, "--chart-ca-file", caFile, "--chart-username", "mirror", "--chart-password-file", pwFile, "-o", "json")...)
		if r.code != 0 {
			t.Fatalf("mirror with its CA and credentials: exit %d", r.code)
		}
		if strings.Contains(r.stdout+r.stderr, password) {
			t.Fatal("the mirror's password was printed")
		}
		for _, x := range reportOf(t, r).Results {
			if x.Action != output.Unchanged {
				t.Errorf("%s: %s, want unchanged (the same chart from the mirror)", x.Line(), x.Action)
			}
		}
		if r = runPlugin(t, c, storageArgs(mirror, "--chart-cert-file", caFile)...); r.code != 2 || !strings.Contains(r.stderr, "--chart-key-file") {
			t.Fatalf("--chart-cert-file alone: exit %d, want 2 naming --chart-key-file", r.code)
		}
		if after := storageState(t, c); !maps.Equal(before, after) {
			t.Fatalf("resourceVersions moved:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("verify --section storage is green", func(t *testing.T) {
		r := runPlugin(t, c, "verify", "--section", "storage,cluster", "--probe-timeout", "60s")
		if r.code != 0 {
			t.Fatalf("verify: exit %d", r.code)
		}
		for _, id := range []string{"STORAGE-001", "STORAGE-002", "STORAGE-003", "CLUSTER-003"} {
			if !strings.Contains(r.stdout, id) {
				t.Errorf("verify output lacks %s", id)
			}
		}
	})

	t.Run("changing --nfs-path upgrades just the release", func(t *testing.T) {
		before := storageState(t, c)
		r := runPlugin(t, c, "storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", "/nfsroot/other/", "-o", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		rep := reportOf(t, r)
		if len(rep.Results) != 1 || rep.Results[0].Kind != "HelmRelease" || rep.Results[0].Action != output.Upgraded {
			t.Fatalf("want only the release upgraded, got %+v", rep.Results)
		}
		dep, err := c.Client.AppsV1().Deployments(nfsNS).Get(ctx, storage.ReleaseName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := envOf(dep, "NFS_PATH"); got != "/nfsroot/other" {
			t.Errorf("NFS_PATH = %q, want /nfsroot/other (cleaned)", got)
		}
		after := storageState(t, c)
		for _, k := range []string{"storageclass/standard", "storageclass/legacy", "storageclass/" + storage.DefaultClass} {
			if before[k] != after[k] {
				t.Errorf("%s moved (%s -> %s)", k, before[k], after[k])
			}
		}
		if before["deployment/"+storage.ReleaseName] == after["deployment/"+storage.ReleaseName] {
			t.Error("deployment not updated")
		}
	})

	t.Run("smoke test passes and leaves nothing behind", func(t *testing.T) {
		r := runPlugin(t, c, "storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", "/nfsroot/other", "--smoke-test")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		// The result (the smoke test's objects) on stdout, the note saying where SUCCESS is on stderr.
		if !strings.Contains(r.stderr, "smoke test passed") || !strings.Contains(r.stderr, "/nfsroot/other/nfs-provisioner-flexigrobots-smoke-") || !strings.Contains(r.stderr, "/SUCCESS") || strings.Contains(r.stdout, "smoke test passed") {
			t.Fatalf("stderr does not say where SUCCESS is (or stdout does): %s", r.stderr)
		}
		// Result and notes one short line each, not one ~400-character sentence.
		for _, line := range strings.Split(r.stderr, "\n") {
			if strings.Contains(line, "smoke test") && len(line) > 160 {
				t.Errorf("a %d-character line: %s", len(line), line)
			}
		}
		sel := metav1.ListOptions{LabelSelector: storage.SmokeTestLabel + "=" + storage.SmokeTestValue}
		pods, _ := c.Client.CoreV1().Pods("").List(ctx, sel)
		pvcs, _ := c.Client.CoreV1().PersistentVolumeClaims("").List(ctx, sel)
		pvs, _ := c.Client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if len(pods.Items)+len(pvcs.Items)+len(pvs.Items) != 0 {
			t.Fatalf("left behind: %d pods, %d claims, %d volumes", len(pods.Items), len(pvcs.Items), len(pvs.Items))
		}
	})

	t.Run("Ctrl-C during the smoke test deletes the claim and pod", func(t *testing.T) {
		// No ready provisioner: the claim stays Pending until the interrupt.
		scaleProvisioner(t, c, 0)
		defer scaleProvisioner(t, c, 1)
		cmd := exec.Command(testbed.PluginBinary(t), "storage", "--chart-repo", repo, "--nfs-server", nfsServer, "--nfs-path", "/nfsroot/other", "--smoke-test", "--wait=false")
		cmd.Env = c.Env("NO_COLOR=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sel := metav1.ListOptions{LabelSelector: storage.SmokeTestLabel + "=" + storage.SmokeTestValue}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := c.Client.CoreV1().Pods(nfsNS).List(ctx, sel)
			return err == nil && len(pods.Items) == 1, nil
		})
		if err != nil {
			_ = cmd.Process.Kill()
			t.Fatalf("smoke-test pod never created: %v\n%s", err, stderr.String())
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		t.Logf("interrupted run: %v\nstderr:\n%s", err, stderr.String())
		if err == nil || !strings.Contains(stderr.String(), "smoke test interrupted") || !strings.Contains(stderr.String(), "deleted") {
			t.Fatalf("want a failed run saying the smoke test was interrupted, got %v", err)
		}
		pods, _ := c.Client.CoreV1().Pods("").List(ctx, sel)
		pvcs, _ := c.Client.CoreV1().PersistentVolumeClaims("").List(ctx, sel)
		if len(pods.Items)+len(pvcs.Items) != 0 {
			t.Fatalf("left behind: %d pods, %d claims", len(pods.Items), len(pvcs.Items))
		}
	})

	t.Run("exports cover both nodes; --check names the missing one", func(t *testing.T) {
		addExternalIP(t, c, testbed.MasterNode, "127.0.0.2")
		addExternalIP(t, c, testbed.GPUNode, "127.0.0.3")
		r := runPlugin(t, c, "storage", "exports", "--nfs-path", nfsPath)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		for _, want := range []string{
			nfsPath + " 127.0.0.1/32(rw,no_root_squash,no_subtree_check)  # gpu-worker, master",
			nfsPath + " 127.0.0.2/32(rw,no_root_squash,no_subtree_check)  # master",
			nfsPath + " 127.0.0.3/32(rw,no_root_squash,no_subtree_check)  # gpu-worker",
			"sudo ufw allow from 127.0.0.3/32 to any port nfs",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("exports lack %q", want)
			}
		}
		r = runPlugin(t, c, "storage", "exports", "--nfs-path", nfsPath, "--mask", "24")
		if !strings.Contains(r.stdout, nfsPath+" 127.0.0.0/24(rw,no_root_squash,no_subtree_check)  # gpu-worker, master") || strings.Count(r.stdout, "ufw allow") != 1 {
			t.Errorf("--mask 24: want one /24 line for both nodes:\n%s", r.stdout)
		}

		dir := t.TempDir()
		partial := filepath.Join(dir, "exports")
		writeFile(t, partial, "# written by hand\n"+nfsPath+" 127.0.0.1/32(rw,no_root_squash,no_subtree_check) \\\n  127.0.0.2(rw)\n/other 127.0.0.3/32(rw)\n")
		r = runPlugin(t, c, "storage", "exports", "--nfs-path", nfsPath, "--check", partial)
		if r.code != 3 || !strings.Contains(r.stderr, "gpu-worker (127.0.0.3)") || strings.Contains(r.stderr, "master") {
			t.Fatalf("--check partial: want exit 3 naming only gpu-worker, got %d: %s", r.code, r.stderr)
		}
		if !strings.Contains(r.stdout, nfsPath+" 127.0.0.3/32(rw,no_root_squash,no_subtree_check)") || strings.Contains(r.stdout, "127.0.0.2/32") {
			t.Errorf("--check partial: want only the missing line:\n%s", r.stdout)
		}
		full := filepath.Join(dir, "exports.full")
		writeFile(t, full, nfsPath+" 127.0.0.0/255.255.255.0(rw,no_root_squash,no_subtree_check)\n")
		if r = runPlugin(t, c, "storage", "exports", "--nfs-path", nfsPath, "--check", full); r.code != 0 {
			t.Fatalf("--check full: exit %d", r.code)
		}
	})
	t.Run("uninstall refuses while a claim is bound, --force uninstalls and keeps the claim", func(t *testing.T) { assertStorageUninstalls(t, c) })
}
