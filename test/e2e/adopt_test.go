package e2e

import (
	"context"
	"maps"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestAdoptRunbookBuiltV121: the platform built by hand from the runbook on its Kubernetes 1.21
// (Kubeflow v1.5.0 applied client-side, MetalLB 0.14.3, gpu-operator v23.6.2), then taken over by
// `apply -f` with the same settings.
func TestAdoptRunbookBuiltV121(t *testing.T) {
	if _, err := testbed.FindBinDir(testbed.V121); err != nil {
		t.Skipf("Kubernetes %s test bed binaries absent (hack/testbin.sh builds them): %v", testbed.V121, err)
	}
	runAdopt(t, runbookCase{bed: testbed.V121, kubeflow: "1.5.0", metallb: "0.14.3", gpuOperator: "v23.6.2"})
}

// TestAdoptRunbookBuiltV137: the same on Kubernetes 1.37 with Kubeflow v1.10.2 (applied as its
// README says) and the MetalLB and gpu-operator charts the plugin picks there.
func TestAdoptRunbookBuiltV137(t *testing.T) {
	runAdopt(t, runbookCase{bed: testbed.V137, kubeflow: "1.10.2", metallb: "0.16.1", gpuOperator: "v26.7.0",
		kubeflowApply: "--server-side --force-conflicts"})
}

// adoptSections are the sections of the platform file, in its order.
var adoptSections = []string{"storage", "lb", "kubeflow", "tls", "profiles", "gpu"}

// runAdopt runs the runbook's steps by hand on a fresh full bed, then on that one bed in turn: the
// dex ConfigMap edited by hand stops `apply -f` with exit 2 before any change; the edit undone,
// `apply -f` takes the platform over (no second release, one default class, no claim lost, every
// object in its section's set); a re-run changes nothing; an edit made after the take-over is
// taken back with --force-conflicts; `delete -f` deletes only what the sets hold.
func runAdopt(t *testing.T, rc runbookCase) {
	repo := testbed.ChartRepo(t)
	kfURL := kubeflowArchiveURL(t, rc.kubeflow)
	c := testbed.StartT(t, testbed.Options{Version: rc.bed, Webhooks: true, StandIns: []testbed.StandIn{
		standins.NewNFSProvisioner(), standins.NewMetalLBController(), standins.NewGPUDevicePlugin(), standins.NewProfileController(),
		standins.NewAdmissionWebhooks(webhookDelay),
	}})
	b := newHandBed(t, c, repo, kfURL)
	file := b.writeAdoptPlatform(t, rc.kubeflow)
	b.runRunbook(t, rc)
	releases := b.helmList(t)
	claims := pvcUIDs(t, c)
	if len(claims) == 0 {
		t.Fatal("the runbook's Kubeflow holds no PersistentVolumeClaim: nothing proves that none is lost")
	}
	dexBefore := dexConfig(t, c)

	t.Run("dex edited by hand: exit 2 before any change, naming field and manager", func(t *testing.T) {
		b.hand(t, "kubectl", "-n", "auth", "patch", "configmap", "dex", "-p", dexPatch(t, withOtherUser(t, dexBefore)))
		defer b.hand(t, "kubectl", "-n", "auth", "patch", "configmap", "dex", "-p", dexPatch(t, dexBefore))
		before := platformState(t, c)
		r := runPlugin(t, c, "apply", "-f", file, "--only", "kubeflow")
		if r.code != 2 {
			t.Errorf("want exit 2 (refused before any change), got %d", r.code)
		}
		for _, w := range []string{"ConfigMap auth/dex: .data.config.yaml (set by kubectl-patch)", "nothing was changed", "--force-conflicts"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q", w)
			}
		}
		sameState(t, before, platformState(t, c))
	})

	t.Run("kubeflow --plan finds the release built by hand by its pipelines image", func(t *testing.T) {
		tags := map[string]string{"1.5.0": "1.8.1", "1.10.2": "2.5.0"}
		r := runPlugin(t, c, "kubeflow", "--plan", "--version", "v"+rc.kubeflow)
		want := "Kubeflow v" + rc.kubeflow + " is installed (Deployment kubeflow/ml-pipeline runs Kubeflow Pipelines " + tags[rc.kubeflow] + "): nothing to upgrade"
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("kubeflow --plan: exit %d, want %q", r.code, want)
		}
	})

	t.Run("apply -f --dry-run=server says what would be adopted and changes nothing", func(t *testing.T) {
		before := platformState(t, c)
		// tls and profiles read what kubeflow really applied: a dry run of them before the take-over
		// has nothing of kubeflow's to read (tls refuses a Gateway kubeflow never applied).
		r := runPlugin(t, c, "apply", "-f", file, "--dry-run=server", "--skip", "tls,profiles")
		if r.code != 0 || !regexp.MustCompile(`kubeflow: would adopt \d+ objects? made by [^\n]*kubectl`).MatchString(r.stderr) {
			t.Errorf("dry run: exit %d, want 0 and a line saying what kubeflow would adopt", r.code)
		}
		sameState(t, before, platformState(t, c))
	})

	var sum map[string]platform.Outcome // of the take-over, when it exited 0
	t.Run("apply -f takes the runbook's platform over", func(t *testing.T) {
		start := time.Now()
		r := runPlugin(t, c, "apply", "-f", file, "-o", "json")
		t.Logf("apply -f took %s", time.Since(start).Round(time.Second))
		if r.code != 0 {
			t.Fatalf("apply -f on the runbook-built platform: exit %d", r.code)
		}
		sum = summaryOf(t, r)
		if !regexp.MustCompile(`kubeflow: adopted \d+ objects? made by [^\n]*kubectl`).MatchString(r.stderr) {
			t.Error("kubeflow does not say what it adopted from kubectl")
		}
		after := b.helmList(t)
		for _, chart := range []string{"nfs-subdir-external-provisioner", "metallb", "gpu-operator"} {
			was, is := releases[chart], after[chart]
			if len(was) != 1 || len(is) != 1 || was[0].Name != is[0].Name || was[0].Namespace != is[0].Namespace {
				t.Errorf("%s releases: %v by hand, %v after apply -f: want the one made by hand, kept", chart, was, is)
			}
		}
		if d := defaultClasses(t, c); len(d) != 1 || d[0] != "nfs-client" {
			t.Errorf("default StorageClasses: %v, want nfs-client alone", d)
		}
		if now := pvcUIDs(t, c); !maps.Equal(claims, now) {
			t.Errorf("claims changed: %v before, %v after", claims, now)
		}
	})
	if sum == nil {
		return
	}
	t.Run("every object a section applied is a member of its set", func(t *testing.T) {
		assertSetMembers(t, c, sum)
	})

	t.Run("re-run is unchanged everywhere and moves no resourceVersion", func(t *testing.T) {
		before := platformState(t, c)
		r := runPlugin(t, c, "apply", "-f", file)
		if r.code != 0 {
			t.Fatalf("re-run: exit %d", r.code)
		}
		for _, sec := range adoptSections {
			if !regexp.MustCompile(`(?m)^` + sec + `\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
				t.Errorf("summary: %s is not unchanged", sec)
			}
		}
		sameState(t, before, platformState(t, c))
	})

	t.Run("the runbook's time-slicing ConfigMap: named and kept, deleted only with --prune-adopted", func(t *testing.T) {
		assertPruneAdopted(t, c, file)
	})

	t.Run("dex edited after the take-over: --force-conflicts takes it back", func(t *testing.T) {
		b.hand(t, "kubectl", "-n", "auth", "patch", "configmap", "dex", "-p", dexPatch(t, withOtherUser(t, dexBefore)))
		r := runPlugin(t, c, "apply", "-f", file, "--only", "kubeflow")
		if r.code == 0 || !strings.Contains(r.stderr, "kubectl-patch") || !strings.Contains(r.stderr, ".data.config.yaml") {
			t.Errorf("without the flag: want a failure naming .data.config.yaml and kubectl-patch, got exit %d", r.code)
		}
		if r := runPlugin(t, c, "apply", "-f", file, "--only", "kubeflow", "--force-conflicts"); r.code != 0 {
			t.Fatalf("--force-conflicts: exit %d", r.code)
		}
		if got := dexConfig(t, c); got != dexBefore {
			t.Errorf("dex config after --force-conflicts is not the file's:\n%s", got)
		}
		// The first run after the forced one may rewrite kubeflow's apply record (its ConfigMap
		// alone: every object unchanged); the one after it moves nothing.
		r = runPlugin(t, c, "apply", "-f", file)
		if r.code != 0 {
			t.Fatalf("re-run after --force-conflicts: exit %d", r.code)
		}
		for _, sec := range adoptSections {
			if !regexp.MustCompile(`(?m)^` + sec + `\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
				t.Errorf("summary after --force-conflicts: %s is not unchanged", sec)
			}
		}
		before := platformState(t, c)
		if r := runPlugin(t, c, "apply", "-f", file); r.code != 0 {
			t.Fatalf("second re-run after --force-conflicts: exit %d", r.code)
		}
		sameState(t, before, platformState(t, c))
	})

	t.Run("delete -f deletes only what the sets hold", func(t *testing.T) {
		before := heldState(t, c)
		r := runPlugin(t, c, "delete", "-f", file)
		if r.code != 0 {
			t.Fatalf("delete -f: exit %d", r.code)
		}
		assertOnlyHeldDeleted(t, before, heldState(t, c))
	})
}

// dexConfig is config.yaml of the live dex ConfigMap.
func dexConfig(t *testing.T, c *testbed.Cluster) string {
	t.Helper()
	cm, err := c.Client.CoreV1().ConfigMaps("auth").Get(context.Background(), "dex", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["config.yaml"]
}

// withOtherUser is dex's config.yaml with a second static user added (bcrypt hash of another
// password), as a person edits it by hand.
func withOtherUser(t *testing.T, config string) string {
	t.Helper()
	cfg := map[string]any{}
	if err := yaml.Unmarshal([]byte(config), &cfg); err != nil {
		t.Fatalf("dex config.yaml: %v", err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("another-password-set-by-hand"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := cfg["staticPasswords"].([]any)
	cfg["staticPasswords"] = append(users, map[string]any{"email": "ops@example.com", "hash": string(hash), "username": "ops", "userID": "42"})
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// dexPatch is the merge patch setting config.yaml of the dex ConfigMap.
func dexPatch(t *testing.T, config string) string {
	t.Helper()
	p, err := yaml.Marshal(map[string]any{"data": map[string]any{"config.yaml": config}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

// setSections are the sections that keep an ApplySet (README "Pruning"); storage and gpu are
// helm releases (the release is their set), and tls and profiles keep no set yet, so their
// objects are checked by the delete -f step only.
var setSections = []string{"lb", "kubeflow"}

// assertSetMembers checks that every object each section of setSections applied carries the
// ApplySet part-of label of that section, but for the objects of helm releases (the release is their set),
// those a controller made (their owner's), those kubeflow and tls both write (ingress.IsShared: no
// one section's to prune) and the record of tls's settings.
func assertSetMembers(t *testing.T, c *testbed.Cluster, sum map[string]platform.Outcome) {
	t.Helper()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	byKind := kindResources(t, c)
	for _, sec := range setSections {
		o := sum[sec]
		if o.Report == nil {
			t.Errorf("%s: no report", sec)
			continue
		}
		var outside []string
		members := 0
		for _, x := range o.Report.Results {
			if x.Kind == helm.ResultKind || (x.Action != output.Created && x.Action != output.Configured && x.Action != output.Unchanged) {
				continue
			}
			live := findLive(t, dyn, byKind, x)
			if live == nil {
				t.Errorf("%s: %s %s/%s reported %s, not found", sec, x.Kind, x.Namespace, x.Name, x.Action)
				continue
			}
			if live.GetAnnotations()["meta.helm.sh/release-name"] != "" || len(live.GetOwnerReferences()) > 0 || ingress.IsShared(live) ||
				(x.Namespace == ingress.IstioNamespace && x.Name == ingress.StateName) {
				continue
			}
			if live.GetLabels()[applySetPartOf] == kube.ApplySetID(sec) {
				members++
			} else {
				outside = append(outside, x.Kind+" "+x.Namespace+"/"+x.Name)
			}
		}
		t.Logf("%s: %d objects in its set", sec, members)
		if len(outside) > 0 {
			t.Errorf("%s: %d objects it applied are not members of its set (part-of=%s): %s", sec, len(outside), kube.ApplySetID(sec),
				strings.Join(outside[:min(len(outside), 10)], ", "))
		}
	}
	for _, sec := range []string{"lb", "kubeflow"} {
		if n := len(sum[sec].Report.Results); n < 2 {
			t.Errorf("%s reported %d objects: the set check proves nothing", sec, n)
		}
	}
}

// kindResources maps each kind the server serves to its resources (a kind may be served by
// several groups, e.g. Service by core and Knative).
func kindResources(t *testing.T, c *testbed.Cluster) map[string][]schema.GroupVersionResource {
	t.Helper()
	lists, err := c.Client.Discovery().ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		t.Fatal(err)
	}
	out := map[string][]schema.GroupVersionResource{}
	for _, l := range lists {
		gv, _ := schema.ParseGroupVersion(l.GroupVersion)
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") {
				out[r.Kind] = append(out[r.Kind], gv.WithResource(r.Name))
			}
		}
	}
	return out
}

// findLive reads the object a report result names (its kind maybe with ".group"), nil when absent.
func findLive(t *testing.T, dyn dynamic.Interface, byKind map[string][]schema.GroupVersionResource, x output.Result) *unstructured.Unstructured {
	t.Helper()
	kind, group, withGroup := strings.Cut(x.Kind, ".")
	for _, gvr := range byKind[kind] {
		if withGroup && gvr.Group != group {
			continue
		}
		o, err := dyn.Resource(gvr).Namespace(x.Namespace).Get(context.Background(), x.Name, metav1.GetOptions{})
		if err == nil {
			return o
		}
		if !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	return nil
}

const applySetPartOf = "applyset.kubernetes.io/part-of"

// heldObject is what decides whether `delete -f` may delete an object.
type heldObject struct {
	// held: a member of a section's set, a helm release (its record or one of its objects), or
	// the plugin's own bookkeeping.
	held bool
	// owned objects go with their owner (garbage collection).
	owned bool
	// clusterMade: what the control plane makes in every namespace or for every ServiceAccount.
	clusterMade bool
}

// heldState is platformState's objects, PodDefaults, Gateways and claims by key, with what holds
// them.
func heldState(t *testing.T, c *testbed.Cluster) map[string]heldObject {
	t.Helper()
	sets := map[string]bool{}
	for _, sec := range adoptSections {
		sets[kube.ApplySetID(sec)] = true
	}
	// The resources platformState reads (by name, as its keys), PodDefaults, Gateways and claims.
	gvrs := map[string]schema.GroupVersionResource{"poddefaults": {Group: "kubeflow.org", Version: "v1alpha1", Resource: "poddefaults"},
		"gateways": {Group: "networking.istio.io", Version: "v1alpha3", Resource: "gateways"}, "persistentvolumeclaims": {Version: "v1", Resource: "persistentvolumeclaims"}}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.Client.Discovery()))
	for k := range platformState(t, c) {
		res := strings.SplitN(k, "/", 2)[0]
		if _, ok := gvrs[res]; !ok {
			gvr, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: res})
			if err != nil {
				t.Fatalf("%s: %v", res, err)
			}
			gvrs[res] = gvr
		}
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	out := map[string]heldObject{}
	for res, gvr := range gvrs {
		list, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list.Items {
			k := res + "/" + o.GetNamespace() + "/" + o.GetName()
			l, a := o.GetLabels(), o.GetAnnotations()
			out[k] = heldObject{
				held:  sets[l[applySetPartOf]] || a["meta.helm.sh/release-name"] != "" || l["owner"] == "helm" || l[kube.ManagedByLabel] == kube.FieldManager,
				owned: len(o.GetOwnerReferences()) > 0,
				clusterMade: (res == "configmaps" && o.GetName() == "kube-root-ca.crt") || (res == "serviceaccounts" && o.GetName() == "default") ||
					(res == "secrets" && a["kubernetes.io/service-account.name"] != ""),
			}
		}
	}
	return out
}

// assertOnlyHeldDeleted fails with every object `delete -f` deleted that no set held: an
// object may go when it is held, owned by what went, made by the control plane, or inside a
// namespace that went and was held, owned, or held nothing else.
func assertOnlyHeldDeleted(t *testing.T, before, after map[string]heldObject) {
	t.Helper()
	emptyOfOthers := func(ns string) bool {
		for k, o := range before {
			if parts := strings.SplitN(k, "/", 3); parts[1] == ns && !o.held && !o.owned && !o.clusterMade {
				return false
			}
		}
		return true
	}
	var bad []string
	for k, o := range before {
		if _, kept := after[k]; kept || o.held || o.owned || o.clusterMade {
			continue
		}
		parts := strings.SplitN(k, "/", 3)
		if parts[0] == "namespaces" && emptyOfOthers(parts[2]) {
			continue
		}
		if nsKey := "namespaces//" + parts[1]; parts[1] != "" {
			_, nsKept := after[nsKey]
			if ns := before[nsKey]; !nsKept && (ns.held || ns.owned) {
				continue
			}
		}
		bad = append(bad, k)
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("delete -f deleted %d objects no set held:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
}
