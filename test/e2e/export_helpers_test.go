package e2e

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The users of assertExportRecreates: three profiles, one contributor, one PodDefault of a user.
var (
	exportProfiles = []string{"alice", "bob", "carol"}
	profilesGVR    = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"}
	podDefaultsGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1alpha1", Resource: "poddefaults"}
)

// assertExportRecreates makes three Profiles on the runbook's v1.5.0 (with what its profile
// controller and access management would make: the namespaces, the owner's binding, and in bob's
// namespace dave as a contributor, a RoleBinding and an AuthorizationPolicy), a PodDefault of
// carol's own; `export` writes exactly those (not Kubeflow's example Profile, the owner bindings or
// the PodDefaults of `profile poddefault`), without server fields, and changes nothing; applied to
// a fresh Kubernetes 1.37 API server holding 26.03's CRDs (from `kubeflow render --version 26.03`),
// it creates every object: what the new cluster's platform would then reconcile.
func assertExportRecreates(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(c.Config)
	for _, name := range exportProfiles {
		p := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "Profile", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"owner": map[string]any{"kind": "User", "name": name + "@example.com"}}}}
		if _, err := dyn.Resource(profilesGVR).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The profile controller's: the namespace and the owner's binding.
		if _, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		admin := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "namespaceAdmin", Namespace: name, Annotations: map[string]string{"role": "admin", "user": name + "@example.com"}},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "kubeflow-admin"}, Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: name + "@example.com"}}}
		if _, err := c.Client.RbacV1().RoleBindings(name).Create(ctx, admin, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Access management's, for dave as a contributor of bob's namespace.
	const contributor = "user-dave-example-com-clusterrole-edit"
	annotations := map[string]string{"role": "edit", "user": "dave@example.com"}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: contributor, Namespace: "bob", Annotations: annotations},
		RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "kubeflow-edit"}, Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "dave@example.com"}}}
	if _, err := c.Client.RbacV1().RoleBindings("bob").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ap := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "security.istio.io/v1beta1", "kind": "AuthorizationPolicy",
		"metadata": map[string]any{"name": contributor, "namespace": "bob", "annotations": map[string]any{"role": "edit", "user": "dave@example.com"}},
		"spec":     map[string]any{"rules": []any{map[string]any{"when": []any{map[string]any{"key": "request.headers[kubeflow-userid]", "values": []any{"dave@example.com"}}}}}}}}
	if _, err := dyn.Resource(authzGVR).Namespace("bob").Create(ctx, ap, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pd := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubeflow.org/v1alpha1", "kind": "PodDefault",
		"metadata": map[string]any{"name": "add-gcp-secret", "namespace": "carol"},
		"spec": map[string]any{"desc": "carol's own", "selector": map[string]any{"matchLabels": map[string]any{"add-gcp-secret": "true"}},
			"env": []any{map[string]any{"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": "/secret/gcp/key.json"}}}}}
	if _, err := dyn.Resource(podDefaultsGVR).Namespace("carol").Create(ctx, pd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	before := platformState(t, c)
	r := runPlugin(t, c, "export")
	if r.code != 0 || !strings.Contains(r.stderr, "3 Profiles, 1 contributor (each a RoleBinding and an AuthorizationPolicy), 1 PodDefault") {
		t.Fatalf("export: exit %d", r.code)
	}
	sameState(t, before, platformState(t, c))
	objs, err := kube.DecodeManifests([]byte(r.stdout))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
		if o.GetUID() != "" || o.GetResourceVersion() != "" || o.GetManagedFields() != nil || o.GetCreationTimestamp() != (metav1.Time{}) || o.Object["status"] != nil {
			t.Errorf("%s keeps fields its server set", kube.Ref(o))
		}
	}
	sort.Strings(got)
	want := []string{"AuthorizationPolicy/bob/" + contributor, "PodDefault/carol/add-gcp-secret", "Profile//alice", "Profile//bob", "Profile//carol", "RoleBinding/bob/" + contributor}
	if !slices.Equal(got, want) {
		t.Fatalf("export wrote %v, want %v", got, want)
	}

	// On the new cluster: 26.03's CRDs on a fresh 1.37 API server, then the export applied.
	mirror, _ := testbed.RemoteBasesMirror(t)
	rr := runPlugin(t, c, "kubeflow", "render", "--version", "26.03", "--manifests", kubeflowArchiveURL(t, "26.03"), "--remote-bases-mirror", mirror)
	rendered, err := kube.DecodeManifests([]byte(rr.stdout))
	if rr.code != 0 || err != nil {
		t.Fatalf("render 26.03: exit %d, %v", rr.code, err)
	}
	next := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	ndyn := dynamic.NewForConfigOrDie(next.Config)
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for _, o := range rendered {
		if o.GetKind() == "CustomResourceDefinition" && slices.Contains([]string{"profiles.kubeflow.org", "poddefaults.kubeflow.org", "authorizationpolicies.security.istio.io"}, o.GetName()) {
			if _, err := ndyn.Resource(crds).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
	}
	for _, name := range exportProfiles { // what the new cluster's profile controller makes
		if _, err := next.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(next.Client.Discovery()))
	for _, o := range objs {
		var err error
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(time.Second) { // the CRDs just created
			var m *meta.RESTMapping
			if m, err = mapper.RESTMapping(o.GroupVersionKind().GroupKind(), o.GroupVersionKind().Version); err == nil {
				_, err = ndyn.Resource(m.Resource).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{})
			}
			if err == nil || time.Now().After(deadline) {
				break
			}
			mapper.Reset()
		}
		if err != nil {
			t.Errorf("the exported %s cannot be created on 1.37 with 26.03's CRDs: %v", kube.Ref(o), err)
		}
	}
	// The old cluster as it was: the uninstall that follows compares it with its state before.
	for _, name := range exportProfiles {
		if err := dyn.Resource(profilesGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
		if err := c.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Error(err)
		}
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		left := slices.DeleteFunc(namespaceNames(t, c), func(n string) bool { return !slices.Contains(exportProfiles, n) })
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the profile namespaces %v are not gone", left)
		}
	}
	owner, err := ndyn.Resource(profilesGVR).Get(ctx, "bob", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if name, _, _ := unstructured.NestedString(owner.Object, "spec", "owner", "name"); name != "bob@example.com" {
		t.Errorf("the re-created Profile bob is owned by %q", name)
	}
}
