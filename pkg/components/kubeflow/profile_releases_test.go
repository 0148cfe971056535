package kubeflow

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// checkProfile compares the profile's data with the build it describes: the namespaces holding
// its workloads (SharedWorkloads named one by one), its claims, its object store, the Secrets left
// to converge, the remote bases it fetched (each reported, pinned ones verified) and that Access
// covers every kind it applies.
func checkProfile(t *testing.T, b *Built) {
	t.Helper()
	p := b.Profile
	crdPlural := map[string]string{}
	kinds := map[string]int{}
	workloadNS := map[string]int{}
	var claims []string
	shared := map[string]bool{}
	for _, w := range p.SharedWorkloads {
		shared[w.GVR.Resource+"/"+w.Namespace+"/"+w.Name] = true
	}
	sharedFound := 0
	for _, o := range b.Objects {
		kinds[o.GetKind()]++
		switch o.GetKind() {
		case "CustomResourceDefinition":
			g, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			k, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			crdPlural[g+"/"+k], _, _ = unstructured.NestedString(o.Object, "spec", "names", "plural")
		case "Deployment", "StatefulSet", "DaemonSet":
			res := strings.ToLower(o.GetKind()) + "s"
			switch {
			case shared[res+"/"+o.GetNamespace()+"/"+o.GetName()]:
				sharedFound++
			case slices.Contains(p.Namespaces, o.GetNamespace()):
				workloadNS[o.GetNamespace()]++
			default:
				t.Errorf("%s %s/%s: its namespace is not in the profile's Namespaces %v nor is it a SharedWorkload", o.GetKind(), o.GetNamespace(), o.GetName(), p.Namespaces)
			}
		case "PersistentVolumeClaim":
			claims = append(claims, o.GetNamespace()+"/"+o.GetName())
		}
	}
	for _, ns := range p.Namespaces {
		if workloadNS[ns] == 0 {
			t.Errorf("namespace %s of the profile holds no workload of the build", ns)
		}
	}
	if sharedFound != len(p.SharedWorkloads) {
		t.Errorf("%d of the SharedWorkloads %v are in the build", sharedFound, p.SharedWorkloads)
	}
	var want []string
	for _, d := range p.DataClaims {
		want = append(want, d.Ref())
	}
	sort.Strings(claims)
	sort.Strings(want)
	if !slices.Equal(claims, want) {
		t.Errorf("the build's claims are %v, the profile's DataClaims %v", claims, want)
	}
	if w := p.ObjectStore.Workload; find(b.Objects, "Deployment", w.Namespace, w.Name) == nil {
		t.Errorf("no Deployment %s/%s of the object store %s in the build", w.Namespace, w.Name, p.ObjectStore.Name)
	}
	for _, s := range storeSecrets(p.ObjectStore) {
		if find(b.Objects, "Secret", s.Namespace, s.Name) != nil || !b.owns(s.Ref()) {
			t.Errorf("the build keeps Secret %s (owned: %v)", s.Ref(), b.Owned)
		}
	}
	if h := p.DexHash; h.Name != "" && !b.owns(h.Namespace+"/"+h.Name) {
		t.Errorf("dex's hash Secret %s/%s is not left to converge (owned: %v)", h.Namespace, h.Name, b.Owned)
	}
	checkRemote(t, b)
	if missing := uncovered(b.Objects, crdPlural); len(missing) > 0 {
		t.Errorf("Access lacks rules for %v", missing)
	}
	t.Logf("%s: %d objects (%d CustomResourceDefinitions), workloads by namespace %v, claims %v, %d remote bases", p.Version, len(b.Objects), kinds["CustomResourceDefinition"], workloadNS, claims, len(b.Remote))
}

// checkRemote: a release with pins fetched its remote bases, each in the report; a pinned URL
// is verified, an unpinned one said so.
func checkRemote(t *testing.T, b *Built) {
	t.Helper()
	p := b.Profile
	if len(p.RemotePins) == 0 {
		if len(b.Remote) != 0 {
			t.Errorf("no pins, yet remote bases fetched: %+v", b.Remote)
		}
		return
	}
	pinned := 0
	for _, f := range b.Remote {
		_, hasPin := p.RemotePins[f.URL]
		if f.Pinned != hasPin {
			t.Errorf("%s: pinned %v, but the profile has a pin: %v", f.Ref, f.Pinned, hasPin)
		}
		if f.Pinned {
			pinned++
		}
		reported := false
		for _, e := range b.Edits {
			reported = reported || (strings.Contains(e.What, f.Ref) && strings.Contains(e.What, f.SHA256) && strings.Contains(e.What, "NOT pinned") != f.Pinned)
		}
		if !reported {
			t.Errorf("remote base %s not reported as fetched (pinned %v) in the edits", f.Ref, f.Pinned)
		}
	}
	if pinned == 0 {
		t.Errorf("none of the remote bases %+v is pinned", b.Remote)
	}
}

// uncovered lists the group/resource of every object Access grants no apply on.
func uncovered(objs []*unstructured.Unstructured, crdPlural map[string]string) []string {
	allowed := map[string]bool{}
	for _, r := range Access.Rules {
		if !slices.Contains(r.Verbs, "patch") {
			continue
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				allowed[g+"/"+res] = true
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		gv, _ := schema.ParseGroupVersion(o.GetAPIVersion())
		res := crdPlural[gv.Group+"/"+o.GetKind()]
		if res == "" {
			plural, _ := meta.UnsafeGuessKindToResource(gv.WithKind(o.GetKind()))
			res = plural.Resource
		}
		if key := gv.Group + "/" + res; !allowed[key] && !seen[key] {
			seen[key] = true
			out = append(out, key)
		}
	}
	return out
}

// TestProfileForAcceptsTagsWithAndWithoutV: a version is found as its tag is spelled and with
// or without the leading "v"; the profile keeps the tag's spelling, which names the download.
func TestProfileForAcceptsTagsWithAndWithoutV(t *testing.T) {
	for _, tag := range Versions() {
		bare := strings.TrimPrefix(tag, "v")
		for _, asked := range []string{tag, bare, "v" + bare} {
			p, err := ProfileFor(asked)
			if err != nil || p.Version != tag {
				t.Fatalf("ProfileFor(%q) = %q, %v; want %q", asked, p.Version, err, tag)
			}
		}
		p, _ := ProfileFor(tag)
		if p.DefaultURL() != "https://github.com/kubeflow/manifests/archive/refs/tags/"+tag+".tar.gz" || p.Top != "manifests-"+bare {
			t.Errorf("%s: download %s, top folder %s", tag, p.DefaultURL(), p.Top)
		}
	}
	if p, _ := ProfileFor("26.03"); p.DefaultURL() != "https://github.com/kubeflow/manifests/archive/refs/tags/26.03.tar.gz" {
		t.Errorf("26.03 downloads %s", p.DefaultURL())
	}
}

// TestVersionsOldestFirst: numbers, not strings, order the releases (v1.9.1 before v1.10.2, the
// calendar-versioned 26.03 last).
func TestVersionsOldestFirst(t *testing.T) {
	vs := Versions()
	for i := 1; i < len(vs); i++ {
		if !versionLess(vs[i-1], vs[i]) || versionLess(vs[i], vs[i-1]) {
			t.Fatalf("Versions() = %v: %s is not before %s", vs, vs[i-1], vs[i])
		}
	}
	if !versionLess("v1.9.1", "v1.10.2") || !versionLess("v1.11.0", "26.03") || versionLess("26.03", "v1.5.0") {
		t.Fatal("versionLess compares strings, not numbers")
	}
}

// TestWaitTargetsNameSharedWorkloads: converge's targets take every workload of the profile's
// namespaces, and in a shared namespace only the named ones.
func TestWaitTargetsNameSharedWorkloads(t *testing.T) {
	for _, v := range Versions() {
		p, _ := ProfileFor(v)
		got := p.WaitTargets()
		if len(got) != 3*len(p.Namespaces)+len(p.SharedWorkloads) {
			t.Fatalf("%s: %d targets for %d namespaces and %d shared workloads", v, len(got), len(p.Namespaces), len(p.SharedWorkloads))
		}
		for _, w := range p.SharedWorkloads {
			if w.Name == "" || !slices.ContainsFunc(got, func(x kube.Target) bool { return x.GVR == w.GVR && x.Namespace == w.Namespace && x.Name == w.Name }) {
				t.Fatalf("%s: shared workload %+v not waited for by name", v, w)
			}
		}
	}
}

// TestUninstallNamesWhatClaimsHold: a kept claim of any release is described.
func TestUninstallNamesWhatClaimsHold(t *testing.T) {
	for _, v := range Versions() {
		for _, d := range profiles[v].DataClaims {
			if got := claimHolds("PersistentVolumeClaim", d.Namespace, d.Name); got == "" {
				t.Errorf("%s: claim %s is not described", v, d.Ref())
			}
		}
	}
	if claimHolds("Secret", "kubeflow", "minio-pvc") != "" || claimHolds("PersistentVolumeClaim", "kubeflow", "made-by-hand") != "" {
		t.Fatal("only the releases' claims are described")
	}
}
