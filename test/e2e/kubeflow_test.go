package e2e

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

const kfGitHubSecret = "gh-oauth-secret-must-never-leak-0xC0FFEE"

// kubeflowArchiveURL serves the fixture archive of version ("1.10.2") on 127.0.0.1 as the download
// URL, and points the user cache at a temp dir.
func kubeflowArchiveURL(t *testing.T, version string) string {
	t.Helper()
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(root, "..", "shared", "fixtures", "kubeflow", "manifests-"+version+".tar.gz")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Skipf("fixture %s absent (../shared/fixtures is provided in CI): %v", archive, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(data) }))
	t.Cleanup(srv.Close)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	return srv.URL + "/v" + version + ".tar.gz"
}

// kubeflowEditArgs are every runbook edit; the GitHub client secret comes from a file.
func kubeflowEditArgs(t *testing.T, version, url string) []string {
	t.Helper()
	secretFile := filepath.Join(t.TempDir(), "gh-secret")
	if err := os.WriteFile(secretFile, []byte(kfGitHubSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--version", "v" + version, "--manifests", url,
		"--oidc-provider", "https://kubeflow.example.com/dex", "--registration-flow", "--ingress-service-type", "LoadBalancer",
		"--dex-issuer", "https://kubeflow.example.com/dex", "--github-client-id", "gh-client-id",
		"--github-client-secret-file", secretFile, "--github-org", "flexigrobots", "--github-team", "ai",
		"--github-redirect-uri", "https://kubeflow.example.com/dex/callback"}
}

// nfsStandInStorage creates what `kubectl flexigrobots storage` leaves: a ready provisioner
// Deployment (kwok runs it) and its StorageClass as the default, so the NFS stand-in binds claims.
func nfsStandInStorage(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "nfs-provisioner"}}
	if _, err := c.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "nfs-subdir-external-provisioner"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "nfs-subdir-external-provisioner", Namespace: ns.Name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "nfs-subdir-external-provisioner", Image: "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2",
				Env: []corev1.EnvVar{{Name: "PROVISIONER_NAME", Value: "cluster.local/nfs-subdir-external-provisioner"}, {Name: "NFS_SERVER", Value: nfsServer}, {Name: "NFS_PATH", Value: nfsPath}},
			}}}},
		},
	}
	if _, err := c.Client.AppsV1().Deployments(ns.Name).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "nfs-client", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "cluster.local/nfs-subdir-external-provisioner",
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func kfReport(t *testing.T, r result) output.Report {
	t.Helper()
	var rep output.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not json: %v\n%s", err, r.stdout)
	}
	return rep
}

// scoped sets each object's namespace the way the API server and kubectl apply treat it: none
// for cluster-scoped kinds, "default" for namespaced objects that name none.
func scoped(t *testing.T, c *testbed.Cluster, objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	t.Helper()
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.Config)))
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", kube.Ref(o), err)
		}
		if m.Scope.Name() != "namespace" {
			o.SetNamespace("")
		} else if o.GetNamespace() == "" {
			o.SetNamespace("default")
		}
	}
	return objs
}

// liveState returns the resourceVersion of each object (namespaces set by scoped), by kube.Ref.
func liveState(t *testing.T, c *testbed.Cluster, objs []*unstructured.Unstructured) map[string]string {
	t.Helper()
	dc := discovery.NewDiscoveryClientForConfigOrDie(c.Config)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn := dynamic.NewForConfigOrDie(c.Config)
	out := map[string]string{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			t.Fatalf("%s: %v", kube.Ref(o), err)
		}
		ri := dynamic.ResourceInterface(dyn.Resource(m.Resource))
		if m.Scope.Name() == "namespace" {
			ri = dyn.Resource(m.Resource).Namespace(o.GetNamespace())
		}
		live, err := ri.Get(context.Background(), o.GetName(), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", kube.Ref(o), err)
		}
		out[kube.Ref(o)] = live.GetResourceVersion()
	}
	return out
}

func namespaceNames(t *testing.T, c *testbed.Cluster) []string {
	t.Helper()
	list, err := c.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	sort.Strings(out)
	return out
}

// TestKubeflowV110 installs v1.10.2 with every edit in one run, checks the edits live, that a
// second run changes nothing, that render equals what was applied, and that bad input exits 2
// with nothing changed; then every suite registered with onKubeflowBed runs on the same bed.
func TestKubeflowV110(t *testing.T) {
	url := kubeflowArchiveURL(t, "1.10.2")
	hooks := standins.NewAdmissionWebhooks(webhookDelay)
	c := testbed.StartT(t, testbed.Options{Webhooks: true, StandIns: []testbed.StandIn{standins.NewNFSProvisioner(), hooks}})
	nfsStandInStorage(t, c)
	pristine := settledClusterObjects(t, c) // what the uninstall must leave as it was
	args := kubeflowEditArgs(t, "1.10.2", url)
	ctx := context.Background()

	before := namespaceNames(t, c)
	for _, bad := range [][]string{
		{"kubeflow", "--version", "v9.9.9"},
		{"kubeflow", "--manifests", url, "--version", "v1.10.2", "--github-client-id", "x"},
		{"kubeflow", "--manifests", filepath.Join(t.TempDir(), "nope"), "--version", "v1.10.2"},
		{"kubeflow", "--manifests", url, "--version", "v1.10.2", "--ingress-service-type", "Magic"},
	} {
		r := runPlugin(t, c, bad...)
		if r.code != 2 || r.stderr == "" {
			t.Fatalf("%v: want exit 2 with a message, got %d %q", bad, r.code, r.stderr)
		}
	}
	if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("bad input changed the namespaces: %v -> %v", before, after)
	}

	// A server dry run creates nothing anywhere: no namespace, and not even the CSR of the
	// signing probe (watched while it runs, since the probe deletes its CSR afterwards).
	var dry result
	for _, name := range csrsCreatedDuring(t, c, func() {
		dry = runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "--dry-run=server", "--wait=false")...)
	}) {
		t.Errorf("the server dry run created CSR %s", name)
	}
	if dry.code != 0 || !strings.Contains(dry.stderr, "CSR signing not probed") {
		t.Fatalf("server dry run: exit %d\n%s", dry.code, dry.stderr)
	}
	if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("the server dry run changed the namespaces: %v -> %v", before, after)
	}

	r := runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "-o", "json", "--timeout", "20m")...)
	if r.code != 0 {
		t.Fatalf("first run: exit %d", r.code)
	}
	if strings.Contains(r.stdout+r.stderr, kfGitHubSecret) {
		t.Fatal("the GitHub client secret was printed")
	}
	first, first0 := kfReport(t, r), r
	assertWebhookRace(t, hooks)

	// Every workload of the profile's namespaces is ready.
	p, _ := kubeflow.ProfileFor("v1.10.2")
	workloads := 0
	for _, ns := range p.Namespaces {
		deps, err := c.Client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps.Items {
			workloads++
			if d.Spec.Replicas != nil && d.Status.ReadyReplicas < *d.Spec.Replicas {
				t.Errorf("deployment %s/%s: %d/%d ready", ns, d.Name, d.Status.ReadyReplicas, *d.Spec.Replicas)
			}
		}
		sts, err := c.Client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sts.Items {
			workloads++
			if s.Spec.Replicas != nil && s.Status.ReadyReplicas < *s.Spec.Replicas {
				t.Errorf("statefulset %s/%s: %d/%d ready", ns, s.Name, s.Status.ReadyReplicas, *s.Spec.Replicas)
			}
		}
	}
	if workloads < 20 {
		t.Fatalf("only %d workloads in %v", workloads, p.Namespaces)
	}

	// The edits, live.
	cd, err := c.Client.AppsV1().Deployments("kubeflow").Get(ctx, "centraldashboard", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := toUnstructured(cd)
	if got := kubeflow.EnvValue(u, "REGISTRATION_FLOW"); got != "true" {
		t.Fatalf("centraldashboard REGISTRATION_FLOW (CD_REGISTRATION_FLOW) = %q", got)
	}
	cm, err := c.Client.CoreV1().ConfigMaps("auth").Get(ctx, "dex", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := cm.Data["config.yaml"]
	if !strings.Contains(cfg, "type: github") || !strings.Contains(cfg, "clientSecret: $GITHUB_CLIENT_SECRET") || strings.Contains(cfg, kfGitHubSecret) {
		t.Fatalf("dex config: want the GitHub connector with the secret by env reference only:\n%s", cfg)
	}
	gh, err := c.Client.CoreV1().Secrets("auth").Get(ctx, kubeflow.GitHubSecretName, metav1.GetOptions{})
	if err != nil || string(gh.Data[kubeflow.GitHubSecretKey]) != kfGitHubSecret {
		t.Fatalf("Secret auth/%s does not hold the GitHub client secret: %v", kubeflow.GitHubSecretName, err)
	}
	gw, err := c.Client.CoreV1().Services("istio-system").Get(ctx, "istio-ingressgateway", metav1.GetOptions{})
	if err != nil || gw.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Fatalf("istio-ingressgateway: %v %v", gw.Spec.Type, err)
	}
	oidc, err := kubeflow.LiveClientSecret(ctx, c.Client, p)
	if err != nil || oidc == "" || oidc == kubeflow.PublicClientSecret {
		t.Fatalf("OIDC client secret is %q (%v): want a generated one", oidc, err)
	}
	proxy, err := c.Client.CoreV1().Secrets(p.Proxy.Namespace).Get(ctx, p.Proxy.Generator, metav1.GetOptions{})
	if err != nil || string(proxy.Data[p.Proxy.SecretKey]) != oidc {
		t.Fatalf("auth proxy's client secret differs from dex's (%v)", err)
	}

	// render prints no Secret unless asked: the manifests' own are named on stderr.
	rr := runPlugin(t, c, append([]string{"kubeflow", "render"}, args...)...)
	if rr.code != 0 || strings.Contains(rr.stdout+rr.stderr, kfGitHubSecret) {
		t.Fatalf("render: exit %d (or printed the GitHub secret)", rr.code)
	}
	leftOut := rr.stderr
	withoutSecrets, err := kube.DecodeManifests([]byte(rr.stdout))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range withoutSecrets {
		if o.GetKind() == "Secret" {
			t.Errorf("render printed Secret %s/%s without --include-secrets", o.GetNamespace(), o.GetName())
		}
	}
	// render --image-registry prints the build with every workload's image in the mirror.
	mr := runPlugin(t, c, append([]string{"kubeflow", "render", "--image-registry", bedMirror}, args...)...)
	mirrored, err := kube.DecodeManifests([]byte(mr.stdout))
	if mr.code != 0 || err != nil {
		t.Fatalf("render --image-registry: exit %d, %v", mr.code, err)
	}
	workloadImages := 0
	for _, o := range mirrored {
		cts, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, ct := range cts {
			workloadImages++
			if image, _ := ct.(map[string]any)["image"].(string); !strings.HasPrefix(image, bedMirror+"/") {
				t.Errorf("render --image-registry: %s %s runs %s", o.GetKind(), o.GetName(), image)
			}
		}
	}
	if workloadImages < 20 {
		t.Errorf("render --image-registry: only %d workload containers", workloadImages)
	}
	// render --include-secrets equals what was applied: same objects (the converge-owned
	// Secrets aside), same edits.
	rr = runPlugin(t, c, append([]string{"kubeflow", "render", "--include-secrets"}, args...)...)
	if rr.code != 0 || strings.Contains(rr.stdout+rr.stderr, kfGitHubSecret) {
		t.Fatalf("render --include-secrets: exit %d (or printed the GitHub secret)", rr.code)
	}
	rendered, err := kube.DecodeManifests([]byte(rr.stdout))
	if err != nil {
		t.Fatal(err)
	}
	var buildSecrets []string
	for _, o := range rendered {
		if o.GetKind() == "Secret" {
			buildSecrets = append(buildSecrets, o.GetNamespace()+"/"+o.GetName())
		}
	}
	if len(buildSecrets) == 0 || len(withoutSecrets)+len(buildSecrets) != len(rendered) {
		t.Fatalf("render left out %d objects, --include-secrets shows %d Secrets: want the same, and some",
			len(rendered)-len(withoutSecrets), len(buildSecrets))
	}
	for _, name := range buildSecrets {
		if !strings.Contains(leftOut, name) {
			t.Errorf("render's stderr does not name the Secret %s it left out", name)
		}
	}
	rendered = scoped(t, c, rendered)
	applied := map[string]bool{}
	for _, x := range first.Results {
		applied[strings.ToLower(x.Kind)+"/"+x.Namespace+"/"+x.Name] = true
	}
	for _, o := range rendered {
		if !applied[strings.ToLower(o.GetKind())+"/"+o.GetNamespace()+"/"+o.GetName()] {
			t.Errorf("rendered %s was not applied", kube.Ref(o))
		}
		if o.GetKind() == "ConfigMap" && o.GetName() == "dex" {
			data, _, _ := unstructured.NestedString(o.Object, "data", "config.yaml")
			if data != cfg {
				t.Errorf("rendered dex config differs from the live one")
			}
		}
	}
	// Converge-owned: the two OIDC client Secrets, the GitHub one, the two stores' and dex-passwords.
	if len(rendered)+6 != len(first.Results) {
		t.Fatalf("rendered %d objects, applied %d (want rendered + 6 converge-owned Secrets)", len(rendered), len(first.Results))
	}
	for _, name := range []string{"kubeflow/mlpipeline-minio-artifact", "kubeflow/katib-mysql-secrets", "auth/dex-passwords"} {
		if !strings.Contains(leftOut, name) {
			t.Errorf("render's stderr does not name the converge-owned Secret %s", name)
		}
	}

	// Second run: nothing changes.
	state := liveState(t, c, rendered)
	r = runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "-o", "json", "--timeout", "20m")...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d", r.code)
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != output.Unchanged {
			t.Errorf("second run: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	if again := liveState(t, c, rendered); !maps.Equal(state, again) {
		for k, v := range state {
			if again[k] != v {
				t.Errorf("%s: resourceVersion %s -> %s", k, v, again[k])
			}
		}
	}
	if again, _ := kubeflow.LiveClientSecret(ctx, c.Client, p); again != oidc {
		t.Fatal("second run changed the OIDC client secret")
	}
	// GitHub login only: no static user, but dex-passwords (dex's envFrom) holds no published hash.
	assertNoPublishedCredentials(t, c, p, false, first0, r, rr)
	assertNoCSRClientNoProbe(t, c, "v1.10.2", args)
	assertForceApplySendsEverything(t, c, args, rendered, state)

	assertClientDryRun(t, c, args, rendered, state, oidc)
	assertCAInjected(t, c, hooks, "admission-webhook-mutating-webhook-configuration")

	// verify --section kubeflow: workloads, dex connector and OIDC secret pass; the gateway has
	// no external IP on a test bed without a load balancer.
	vr := runPlugin(t, c, "verify", "--section", "kubeflow", "-o", "json")
	var vrep verify.Report
	if err := json.Unmarshal([]byte(vr.stdout), &vrep); err != nil {
		t.Fatalf("verify output: %v", err)
	}
	seen := map[string]bool{}
	for _, x := range vrep.Results {
		seen[x.ID] = true
		wantOK := x.ID != "KUBEFLOW-002"
		if (x.Severity == checks.OK) != wantOK {
			t.Errorf("%s: %s %s", x.ID, x.Severity, x.Message)
		}
		if strings.Contains(x.Message+x.Fix, oidc) {
			t.Errorf("%s printed the OIDC client secret", x.ID)
		}
	}
	if len(seen) != 6 {
		t.Fatalf("want the 6 kubeflow checks, got %v", seen)
	}
	assertKubeflowPrunes(t, c, args, first)
	runBedSuites(t, c, "v1.10.2")
	assertKubeflowUpgrades(t, c, args)
	assertKubeflowUpgradesHopByHop(t, c, args)
	assertKubeflowUninstalls(t, c, pristine)
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	return &unstructured.Unstructured{Object: m}, err
}
