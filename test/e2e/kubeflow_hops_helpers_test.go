package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// upstreamDropped is what each hop's release no longer has, as the facts (versions-matrix 1e,
// read from the builds and README of each tag) list it, by Kind/namespace/name; ConfigMaps whose
// name ends in a kustomize content hash are new objects at every content change and not listed.
// The Secret training-operator-webhook-cert is in the v1.10.2 build and not in v1.11.0's,
// beside the objects the facts name.
var upstreamDropped = map[string][]string{
	"v1.11.0": {
		"Deployment/kubeflow/minio", "PersistentVolumeClaim/kubeflow/minio-pvc", "AuthorizationPolicy/kubeflow/minio-service", "DestinationRule/kubeflow/ml-pipeline-minio",
		"CustomResourceDefinition//tfjobs.kubeflow.org", "CustomResourceDefinition//pytorchjobs.kubeflow.org", "CustomResourceDefinition//mpijobs.kubeflow.org",
		"CustomResourceDefinition//paddlejobs.kubeflow.org", "CustomResourceDefinition//xgboostjobs.kubeflow.org", "CustomResourceDefinition//jaxjobs.kubeflow.org",
		"Deployment/kubeflow/training-operator", "Service/kubeflow/training-operator", "ServiceAccount/kubeflow/training-operator", "Secret/kubeflow/training-operator-webhook-cert",
		"ClusterRole//kubeflow-training-admin", "ClusterRole//kubeflow-training-edit", "ClusterRole//kubeflow-training-view", "ClusterRole//training-operator",
		"ClusterRoleBinding//training-operator", "ValidatingWebhookConfiguration//validator.training-operator.kubeflow.org",
	},
	"26.03": {
		"RoleBinding/cert-manager/cert-manager-cert-manager-tokenrequest", "Service/kubeflow/minio-service",
		"NetworkPolicy/kubeflow/default-allow-same-namespace-auth", "NetworkPolicy/kubeflow/default-allow-same-namespace-cert-manager",
		"NetworkPolicy/kubeflow/default-allow-same-namespace-istio-system", "NetworkPolicy/kubeflow/default-allow-same-namespace-knative-serving",
		"NetworkPolicy/kubeflow/default-allow-same-namespace-kubeflow-system", "NetworkPolicy/kubeflow/default-allow-same-namespace-oauth2-proxy",
		"NetworkPolicy/kubeflow/cert-manager-webhook", "NetworkPolicy/kubeflow/jobset-webhook", "NetworkPolicy/kubeflow/trainer-webhook", "NetworkPolicy/kubeflow/minio",
	},
}

// hashed tells a kustomize-generated name (a content hash of 10 characters at its end).
var hashed = regexp.MustCompile(`-[a-z0-9]{10}$`)

// pytorchJobs are Training Operator v1's PyTorchJobs.
var pytorchJobs = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "pytorchjobs"}

// assertKubeflowUpgradesHopByHop upgrades the converged v1.10.2 (args: its edits) to 26.03 with
// the releases from a loopback mirror of their tag archives, while a Training Operator v1 job
// exists: --plan names both hops, what each prunes (exactly what upstream dropped, but the MinIO
// claim and server and, while the job exists, Training Operator v1, which it keeps) and changes
// nothing; the upgrade (whose first hop copies the artifacts: assertArtifactsCopied) with a webhook that never answers for what only the second hop creates
// stops there, saying the cluster is at v1.11.0, which its record names; the re-run goes on from
// there and finishes; every claim is still bound; a re-run changes nothing; once the v1 job is
// gone, the next run prunes Training Operator v1.
func assertKubeflowUpgradesHopByHop(t *testing.T, c *testbed.Cluster, args []string) {
	t.Helper()
	ctx := context.Background()
	mirror := tagArchiveMirror(t)
	bases, _ := testbed.RemoteBasesMirror(t)
	up := []string{"kubeflow", "--version", "26.03", "--manifests-mirror", mirror, "--remote-bases-mirror", bases, "--timeout", "20m"}
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "--version", "--manifests", "--timeout":
			i++ // the upgrade names its own
		default:
			up = append(up, args[i])
		}
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	job := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
		"metadata": map[string]any{"name": "v1-job", "namespace": "kubeflow"},
		"spec": map[string]any{"pytorchReplicaSpecs": map[string]any{"Master": map[string]any{"replicas": int64(1),
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "pytorch", "image": "pytorch/pytorch"}}}}}}}}}
	if _, err := dyn.Resource(pytorchJobs).Namespace("kubeflow").Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create a v1 PyTorchJob: %v", err)
	}

	before := platformState(t, c)
	plan := runPlugin(t, c, append(slices.Clone(up), "--plan")...)
	for _, want := range []string{"Kubeflow v1.10.2 is installed", "the upgrade to 26.03 takes 2 hops", "hop 1 of 2: v1.10.2 → v1.11.0", "hop 2 of 2: v1.11.0 → 26.03",
		"keep:    PersistentVolumeClaim kubeflow/minio-pvc: holds Kubeflow Pipelines' artifacts (minio)", "Training Operator v1 still has jobs (1 pytorchjobs)",
		"migrate: after the apply, copy Kubeflow Pipelines' artifacts from minio to SeaweedFS (Job kubeflow/" + kubeflow.CopyJobName + ")",
		"until Job kubeflow/" + kubeflow.CopyJobName + " has copied its artifacts to SeaweedFS", "Nothing was changed"} {
		if plan.code != 0 || !strings.Contains(plan.stdout, want) {
			t.Errorf("--plan: exit %d, output lacks %q", plan.code, want)
		}
	}
	var p kubeflow.UpgradePlan
	if r := runPlugin(t, c, append(slices.Clone(up), "--plan", "-o", "json")...); r.code != 0 || json.Unmarshal([]byte(r.stdout), &p) != nil || len(p.Hops) != 2 {
		t.Fatalf("--plan -o json: exit %d, %d hops", r.code, len(p.Hops))
	}
	sameState(t, before, platformState(t, c))
	for _, h := range p.Hops {
		var kept []string
		for _, k := range h.Kept {
			kept = append(kept, k.Object)
		}
		assertDropped(t, "--plan "+h.To, h.To, refsAsKinds(h.Pruned), refsAsKinds(kept))
	}

	// images lists the upgrade's target and the Job the plugin starts to copy the artifacts.
	file := filepath.Join(t.TempDir(), "plugins.yaml")
	doc := "apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: upgrade}\nspec:\n  kubeflow:\n    version: \"26.03\"\n" +
		"    manifestsMirror: " + mirror + "\n    remoteBasesMirror: " + bases + "\n"
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var listed imageList
	if r := runPlugin(t, c, "images", "-f", file, "-o", "json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &listed) != nil {
		t.Fatalf("images before the upgrade: exit %d", r.code)
	}
	copier := slices.ContainsFunc(listed.Images, func(im imageListEntry) bool {
		return im.Image == kubeflow.CopyImage && len(im.Sources) == 1 && im.Sources[0].Origin == "plugin" && strings.Contains(im.Sources[0].Object, kubeflow.CopyJobName)
	})
	if !copier || !slices.ContainsFunc(listed.Images, func(im imageListEntry) bool { return im.Image == "ghcr.io/kubeflow/kfp-driver:2.16.0" }) {
		t.Errorf("images before the upgrade to 26.03: the copy Job's %s as plugin %v, 26.03's KFP driver listed", kubeflow.CopyImage, copier)
	}
	sameState(t, before, platformState(t, c))

	// A server dry run tries the first hop only, and changes nothing.
	dry := runPlugin(t, c, append(slices.Clone(up), "--dry-run=server")...)
	if dry.code != 0 || !strings.Contains(dry.stdout+dry.stderr, "dry run: only hop 1 of 2 (v1.10.2 → v1.11.0) was tried") {
		t.Errorf("--dry-run=server over two hops: exit %d, want a note that only the first was tried", dry.code)
	}
	sameState(t, before, platformState(t, c))
	if got := recordedRelease(t, c); got != "v1.10.2" {
		t.Errorf("after the dry run the record names %q", got)
	}

	// A webhook that never answers, for the NetworkPolicies only 26.03 creates in namespace auth.
	stuck := neverAnswers(t)
	fail := admissionv1.FailurePolicyType("Fail")
	none := admissionv1.SideEffectClassNone
	timeout := int32(2)
	vwc := &admissionv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "never-answers"},
		Webhooks: []admissionv1.ValidatingWebhook{{Name: "never-answers.example.com", ClientConfig: admissionv1.WebhookClientConfig{URL: &stuck},
			Rules: []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule: admissionv1.Rule{APIGroups: []string{"networking.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"networkpolicies"}}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "auth"}},
			FailurePolicy:     &fail, SideEffects: &none, TimeoutSeconds: &timeout, AdmissionReviewVersions: []string{"v1"}}}}
	if _, err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The first hop takes under a minute on the bed; the second then waits for the webhook until
	// the budget ends.
	r := runPlugin(t, c, append(slices.Clone(up), "--timeout", "3m", "-o", "json")...)
	if r.code == 0 || !strings.Contains(r.stderr, "the upgrade stopped in hop 2 of 2 (v1.11.0 → 26.03) (the cluster is at v1.11.0, the last finished hop; run the command again to continue from there)") {
		t.Fatalf("upgrade through a webhook that never answers: exit %d, want a stop in hop 2 saying the cluster is at v1.11.0", r.code)
	}
	if got := recordedRelease(t, c); got != "v1.11.0" {
		t.Fatalf("after the stop in hop 2 the record names %q, want v1.11.0", got)
	}
	pruned, kept := byAction(kfReport(t, r), "hop 1 of 2")
	assertDropped(t, "hop 1", "v1.11.0", pruned, kept)
	assertArtifactsCopied(t, c, kfReport(t, r))
	if err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(ctx, vwc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	r = runPlugin(t, c, append(slices.Clone(up), "-o", "json")...)
	if r.code != 0 || !strings.Contains(r.stderr, "upgrading v1.11.0 → 26.03: 1 hop") {
		t.Fatalf("the re-run after the stop: exit %d, want the one hop left", r.code)
	}
	pruned, kept = byAction(kfReport(t, r), "")
	assertDropped(t, "hop 2", "26.03", pruned, kept)
	if got := recordedRelease(t, c); got != "26.03" {
		t.Fatalf("after the upgrade the record names %q", got)
	}
	claims, err := c.Client.CoreV1().PersistentVolumeClaims("kubeflow").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var bound []string
	for _, pvc := range claims.Items {
		if pvc.Status.Phase == corev1.ClaimBound {
			bound = append(bound, pvc.Name)
		}
	}
	sort.Strings(bound)
	if want := []string{"katib-mysql", "minio-pvc", "mysql-pv-claim", "seaweedfs-pvc"}; !slices.Equal(bound, want) {
		t.Errorf("bound claims in kubeflow after the upgrade: %v, want %v", bound, want)
	}

	// Back to v1.10.2: no downgrade path, exit 2, nothing changed.
	before = platformState(t, c)
	down := runPlugin(t, c, "kubeflow", "--version", "v1.10.2", "--manifests-mirror", mirror)
	if down.code != 2 || !strings.Contains(down.stderr, "Kubeflow 26.03 is installed") || !strings.Contains(down.stderr, "no downgrade path") {
		t.Errorf("a downgrade: exit %d, want 2 saying 26.03 is installed and there is no downgrade path", down.code)
	}
	sameState(t, before, platformState(t, c))

	record := platformRecordVersion(t, c)
	r = runPlugin(t, c, append(slices.Clone(up), "-o", "json")...)
	pruned, kept = byAction(kfReport(t, r), "")
	if got := platformRecordVersion(t, c); got != record {
		t.Errorf("the same run again moved the platform record (resourceVersion %s → %s)", record, got)
	}
	if r.code != 0 || len(pruned) != 0 || len(kept) != 1+16 {
		t.Errorf("re-run after the upgrade: exit %d, pruned %v, kept %d %v (want the MinIO claim and the 16 objects of Training Operator v1)", r.code, pruned, len(kept), kept)
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != output.Unchanged && x.Action != output.Kept {
			t.Errorf("re-run after the upgrade: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}

	assertPlatformExported(t, c, "26.03", nil)

	if err := dyn.Resource(pytorchJobs).Namespace("kubeflow").Delete(ctx, job.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r = runPlugin(t, c, append(slices.Clone(up), "-o", "json")...)
	pruned, kept = byAction(kfReport(t, r), "")
	if r.code != 0 || len(pruned) != 16 || len(kept) != 1 {
		t.Errorf("once the v1 job is gone: exit %d, pruned %d %v, kept %v: want Training Operator v1's 16 objects pruned, the MinIO claim kept", r.code, len(pruned), pruned, kept)
	}
}

// assertDropped checks that pruned and kept (Kind/namespace/name) of the hop to release are
// exactly what upstream dropped (hashed ConfigMaps aside): kept the MinIO claim, server and
// AuthorizationPolicy (at the hop that copies; the copy deletes the last two), and Training
// Operator v1 while its job exists (the helper's job exists whenever it is called).
func assertDropped(t *testing.T, what, release string, pruned, kept []string) {
	t.Helper()
	var got []string
	for _, x := range append(slices.Clone(pruned), kept...) {
		// assertKubeflowUpgrades left its next release's ConfigMap on the bed: v1.11.0 has none.
		leftByTheTestBefore := release == "v1.11.0" && x == "ConfigMap/kubeflow/kubeflow-release"
		if !(strings.HasPrefix(x, "ConfigMap/") && hashed.MatchString(x)) && !leftByTheTestBefore {
			got = append(got, x)
		}
	}
	want := slices.Clone(upstreamDropped[release])
	if release == "26.03" {
		want = append(want, "PersistentVolumeClaim/kubeflow/minio-pvc") // kept at the hop before, and again (the copy deleted minio's server)
		want = append(want, upstreamDropped["v1.11.0"][4:]...)          // Training Operator v1, kept while its job exists
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: pruned and kept %v\nwant what upstream dropped: %v", what, got, want)
	}
	for _, x := range pruned {
		if x == "PersistentVolumeClaim/kubeflow/minio-pvc" || x == "Deployment/kubeflow/minio" || x == "AuthorizationPolicy/kubeflow/minio-service" || strings.Contains(x, "training") || strings.Contains(x, "jobs.kubeflow.org") {
			t.Errorf("%s pruned %s, which holds data or serves a job", what, x)
		}
	}
}

// byAction is the report's pruned and kept objects (Kind/namespace/name) whose detail starts
// with hop ("" for the last hop's, whose detail names none).
func byAction(rep output.Report, hop string) (pruned, kept []string) {
	for _, x := range rep.Results {
		if hop == "" && strings.HasPrefix(x.Detail, "hop ") || hop != "" && !strings.HasPrefix(x.Detail, hop) {
			continue
		}
		ref := x.Kind + "/" + x.Namespace + "/" + x.Name
		switch x.Action {
		case kube.Pruned:
			pruned = append(pruned, ref)
		case output.Kept:
			kept = append(kept, ref)
		}
	}
	return pruned, kept
}

// refsAsKinds turns kube.Ref strings ("Kind.group namespace/name", "Kind.group name") into
// Kind/namespace/name.
func refsAsKinds(refs []string) []string {
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		kind, rest, _ := strings.Cut(r, " ")
		kind, _, _ = strings.Cut(kind, ".")
		if !strings.Contains(rest, "/") {
			rest = "/" + rest
		}
		out = append(out, kind+"/"+rest)
	}
	return out
}

// recordedRelease is the release the kubeflow apply record names.
func recordedRelease(t *testing.T, c *testbed.Cluster) string {
	t.Helper()
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(context.Background(), kube.RecordName("kubeflow"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Annotations[kubeflow.ReleaseAnnotation]
}

// tagArchiveMirror serves the Kubeflow fixtures on loopback as GitHub names its tag archives
// (/v1.10.2.tar.gz, /26.03.tar.gz): what --manifests-mirror reads.
func tagArchiveMirror(t *testing.T) string {
	t.Helper()
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "..", "shared", "fixtures", "kubeflow")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".tar.gz")
		data, err := os.ReadFile(filepath.Join(dir, "manifests-"+strings.TrimPrefix(tag, "v")+".tar.gz"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// neverAnswers is the https URL of a loopback listener that accepts connections and never
// answers (a webhook backend that hangs).
func neverAnswers(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				close(done)
				return
			}
			held = append(held, conn) // read nothing, write nothing
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		for _, c := range held {
			_ = c.Close()
		}
	})
	return "https://" + l.Addr().String() + "/validate"
}
