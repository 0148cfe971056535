package helm

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// syncBuffer is stderr shared with helm's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// helmBed is the test bed, the fixture chart repository and a Client on the root's kind of
// ConfigFlags.
type helmBed struct {
	t       *testing.T
	bed     *testbed.Cluster
	client  *Client
	repoURL string
	stderr  *syncBuffer
}

func startHelmBed(t *testing.T) *helmBed {
	repoURL := testbed.ChartRepo(t)
	bed := testbed.StartT(t, testbed.Options{})
	stderr := &syncBuffer{}
	c := NewClient(bed.ConfigFlags(), output.NewProgress(stderr))
	c.CacheDir = t.TempDir()
	return &helmBed{t: t, bed: bed, client: c, repoURL: repoURL, stderr: stderr}
}

// nfsSpec is the runbook's NFS provisioner release in ns with extra --set values.
func (h *helmBed) nfsSpec(ns string, set ...string) Spec {
	return Spec{
		ReleaseName: nfsChart, Namespace: ns, ChartName: nfsChart, CreateNamespace: true,
		Chart:   core.ChartSource{Repo: h.repoURL, Version: "4.0.18", Set: set},
		Values:  map[string]any{"nfs": map[string]any{"server": "127.0.0.1", "path": "/exports"}, "storageClass": map[string]any{"name": "nfs-" + ns}},
		Timeout: 2 * time.Minute,
	}
}

func (h *helmBed) ensure(s Spec, wantAction string) (output.Result, *release.Release) {
	h.t.Helper()
	res, rel, err := h.client.Ensure(context.Background(), s)
	if err != nil {
		h.t.Fatalf("ensure %s/%s: %v\nstderr:\n%s", s.Namespace, s.ReleaseName, err, h.stderr)
	}
	h.t.Logf("%s", res.Line())
	if res.Action != wantAction {
		h.t.Fatalf("ensure %s/%s: %s, want %s", s.Namespace, s.ReleaseName, res.Line(), wantAction)
	}
	return res, rel
}

// snapshot is the resourceVersion of every helm release Secret and Deployment in ns, once every
// Deployment finished rolling out (so only a change by Ensure can move them afterwards).
func (h *helmBed) snapshot(ns string) map[string]string {
	h.t.Helper()
	ctx := context.Background()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		deps, err := h.bed.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, d := range deps.Items {
			want := *d.Spec.Replicas
			st := d.Status
			if st.ObservedGeneration != d.Generation || st.Replicas != want || st.UpdatedReplicas != want || st.ReadyReplicas != want || st.AvailableReplicas != want {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		h.t.Fatalf("deployments in %s did not finish rolling out: %v", ns, err)
	}
	out := map[string]string{}
	secrets, err := h.bed.Client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range secrets.Items {
		out["secret/"+s.Name] = s.ResourceVersion
	}
	deps, err := h.bed.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range deps.Items {
		out["deployment/"+d.Name] = d.ResourceVersion
	}
	return out
}

func (h *helmBed) sameSnapshot(before map[string]string, ns string) {
	h.t.Helper()
	after := h.snapshot(ns)
	if len(after) != len(before) {
		h.t.Fatalf("objects changed in %s: before %v, after %v", ns, before, after)
	}
	for k, v := range before {
		if after[k] != v {
			h.t.Fatalf("%s moved from resourceVersion %s to %s", k, v, after[k])
		}
	}
}

func (h *helmBed) nfsPath(ns, deployment string) string {
	h.t.Helper()
	d, err := h.bed.Client.AppsV1().Deployments(ns).Get(context.Background(), deployment, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "NFS_PATH" {
			return e.Value
		}
	}
	return ""
}

func TestEnsureNFSProvisioner(t *testing.T) {
	h := startHelmBed(t)
	const ns = "nfs-provisioner"

	t.Run("install waits until ready", func(t *testing.T) {
		s := h.nfsSpec(ns)
		s.Wait = true
		_, rel := h.ensure(s, output.Installed)
		if rel.Version != 1 || rel.Info.Status != release.StatusDeployed {
			t.Fatalf("release revision %d %s", rel.Version, rel.Info.Status)
		}
		d, err := h.bed.Client.AppsV1().Deployments(ns).Get(context.Background(), nfsChart, metav1.GetOptions{})
		if err != nil || d.Status.ReadyReplicas != 1 {
			t.Fatalf("deployment not ready after --wait: %v %+v", err, d.Status)
		}
		if !strings.Contains(h.stderr.String(), "waiting up to 2m0s") {
			t.Fatalf("no wait progress on stderr:\n%s", h.stderr)
		}
	})

	t.Run("re-run is unchanged", func(t *testing.T) {
		before := h.snapshot(ns)
		s := h.nfsSpec(ns)
		s.Wait = true
		h.ensure(s, output.Unchanged)
		h.sameSnapshot(before, ns)
	})

	t.Run("dry runs change nothing", func(t *testing.T) {
		before := h.snapshot(ns)
		for _, mode := range []core.DryRunStrategy{core.DryRunClient, core.DryRunServer} {
			s := h.nfsSpec(ns, "nfs.path=/elsewhere")
			s.DryRun = mode
			res, _ := h.ensure(s, output.Upgraded)
			if res.DryRun != mode || !strings.Contains(res.Line(), "dry run") {
				t.Fatalf("result does not say dry run: %s", res.Line())
			}
		}
		h.sameSnapshot(before, ns)
	})

	t.Run("unknown chart version is a usage error", func(t *testing.T) {
		before := h.snapshot(ns)
		s := h.nfsSpec(ns, "nfs.path=/elsewhere")
		s.Chart.Version = "4.0.99"
		_, _, err := h.client.Ensure(context.Background(), s)
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), "4.0.18") {
			t.Fatalf("want a usage error listing 4.0.18, got %v", err)
		}
		h.sameSnapshot(before, ns)
	})

	t.Run("changed value upgrades", func(t *testing.T) {
		_, rel := h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Upgraded)
		if rel.Version != 2 || h.nfsPath(ns, nfsChart) != "/exports2" {
			t.Fatalf("revision %d, NFS_PATH %q", rel.Version, h.nfsPath(ns, nfsChart))
		}
		before := h.snapshot(ns)
		h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Unchanged)
		h.sameSnapshot(before, ns)
	})

	t.Run("reuse values keeps the release's values", func(t *testing.T) {
		s := h.nfsSpec(ns)
		s.Values, s.ReuseValues = nil, true
		h.ensure(s, output.Unchanged)
		s.Values = map[string]any{"replicaCount": 2}
		_, rel := h.ensure(s, output.Upgraded)
		if rel.Version != 3 || h.nfsPath(ns, nfsChart) != "/exports2" {
			t.Fatalf("revision %d, NFS_PATH %q: the old values were not kept", rel.Version, h.nfsPath(ns, nfsChart))
		}
		h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Upgraded) // back to one replica
	})

	t.Run("stuck pending-upgrade is rolled back", func(t *testing.T) {
		// What an interrupted `helm upgrade` leaves: the next revision stored as pending-upgrade.
		cfg, err := h.client.config(ns)
		if err != nil {
			t.Fatal(err)
		}
		up := action.NewUpgrade(cfg)
		up.Namespace, up.DryRun, up.DryRunOption = ns, true, "client"
		ch, err := h.client.LoadChart(context.Background(), h.nfsSpec(ns))
		if err != nil {
			t.Fatal(err)
		}
		pending, err := up.Run(nfsChart, ch, map[string]any{"nfs": map[string]any{"server": "127.0.0.1", "path": "/half-done"}})
		if err != nil {
			t.Fatal(err)
		}
		pending.Info.Status = release.StatusPendingUpgrade
		if err := cfg.Releases.Create(pending); err != nil {
			t.Fatal(err)
		}
		res, rel := h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Upgraded)
		if rel.Info.Status != release.StatusDeployed || rel.Version != pending.Version+1 || !strings.Contains(res.Detail, "recovered") {
			t.Fatalf("after recovery: revision %d %s (%s)", rel.Version, rel.Info.Status, res.Line())
		}
		if !strings.Contains(h.stderr.String(), "left pending-upgrade at revision") {
			t.Fatalf("recovery not said on stderr:\n%s", h.stderr)
		}
		before := h.snapshot(ns)
		h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Unchanged)
		h.sameSnapshot(before, ns)
	})
}

func TestEnsureFindsAndRecovers(t *testing.T) {
	h := startHelmBed(t)

	t.Run("release under another name is upgraded, not duplicated", func(t *testing.T) {
		const ns = "nfs-other"
		s := h.nfsSpec(ns)
		s.ReleaseName = "nfs-1660041098" // as made by `helm install --generate-name`
		h.ensure(s, output.Installed)
		res, rel := h.ensure(h.nfsSpec(ns, "nfs.path=/exports2"), output.Upgraded)
		if res.Name != "nfs-1660041098" || rel.Version != 2 {
			t.Fatalf("%s revision %d", res.Line(), rel.Version)
		}
		found, err := h.client.Find(ns, nfsChart)
		if err != nil || found == nil || found.Name != "nfs-1660041098" {
			t.Fatalf("Find: %v %v", found, err)
		}
		for name := range h.snapshot(ns) {
			if strings.HasPrefix(name, "secret/") && !strings.HasPrefix(name, "secret/sh.helm.release.v1.nfs-1660041098.") {
				t.Fatalf("a second release was made: %s", name)
			}
		}
		if !strings.Contains(h.stderr.String(), "found release nfs-1660041098") {
			t.Fatalf("not said on stderr:\n%s", h.stderr)
		}
	})

	t.Run("stuck pending-install is reinstalled", func(t *testing.T) {
		const ns = "nfs-pending"
		// What an interrupted first `helm install` leaves: revision 1 stored as pending-install.
		dry := h.nfsSpec(ns)
		dry.DryRun = core.DryRunClient
		_, pending := h.ensure(dry, output.Installed)
		if _, err := h.bed.Client.CoreV1().Namespaces().Create(context.Background(), namespace(ns), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cfg, err := h.client.config(ns)
		if err != nil {
			t.Fatal(err)
		}
		if pending.Info.Status != release.StatusPendingInstall {
			t.Fatalf("dry-run release is %s", pending.Info.Status)
		}
		if err := cfg.Releases.Create(pending); err != nil {
			t.Fatal(err)
		}
		_, rel := h.ensure(h.nfsSpec(ns), output.Installed)
		if rel.Version != 1 || rel.Info.Status != release.StatusDeployed {
			t.Fatalf("after recovery: revision %d %s", rel.Version, rel.Info.Status)
		}
		if !strings.Contains(h.stderr.String(), "also has release nfs-1660041098 in namespace nfs-other; installing another in nfs-pending") {
			t.Fatalf("no warning about the release in another namespace:\n%s", h.stderr)
		}
		if !strings.Contains(h.stderr.String(), "left pending-install at revision 1 with no deployed revision") {
			t.Fatalf("recovery not said on stderr:\n%s", h.stderr)
		}
		h.ensure(h.nfsSpec(ns), output.Unchanged)
	})

	t.Run("wait timeout says what is not ready, a re-run repairs", func(t *testing.T) {
		const ns = "nfs-wait"
		s := h.nfsSpec(ns)
		s.ReleaseName, s.Wait, s.Timeout = "nfs-wait", true, 5*time.Second
		s.Values["nodeSelector"] = map[string]any{"example.test/no-such-node": "true"} // never schedulable
		_, _, err := h.client.Ensure(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), "not ready after 5s") || !strings.Contains(err.Error(), "kubectl get pods -n nfs-wait") || !strings.Contains(err.Error(), "last seen: Deployment nfs-wait/") || !strings.Contains(err.Error(), "pods ready)") {
			t.Fatalf("want a wait timeout naming the namespace, got %v", err)
		}
		t.Logf("error: %v", err)
		if !strings.Contains(h.stderr.String(), "helm: waiting: Deployment nfs-wait/") {
			t.Fatalf("no readiness progress on stderr:\n%s", h.stderr)
		}
		s = h.nfsSpec(ns)
		s.ReleaseName, s.Wait = "nfs-wait", true
		_, rel := h.ensure(s, output.Upgraded)
		if rel.Version != 2 || rel.Info.Status != release.StatusDeployed {
			t.Fatalf("after repair: revision %d %s", rel.Version, rel.Info.Status)
		}
	})

	t.Run("client dry run of an install creates nothing", func(t *testing.T) {
		const ns = "nfs-dry"
		s := h.nfsSpec(ns)
		s.ReleaseName = "nfs-dry" // cluster-scoped names differ from the release in nfs-pending
		s.DryRun = core.DryRunClient
		h.ensure(s, output.Installed)
		if _, err := h.bed.Client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
			t.Fatalf("namespace %s was created by a dry run", ns)
		}
	})
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}
