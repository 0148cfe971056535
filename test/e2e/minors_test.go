package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestMain stops the shared apiserver-only beds after the package's tests (keeping their logs
// when a test failed).
func TestMain(m *testing.M) { os.Exit(testbed.RunShared(m)) }

// TestMinors smoke-tests the apiserver-only bed of each extra minor: the server reports that
// version (to client-go, to the plugin's version and to its releases report through the bed's
// kubeconfig), and it enforces a CRD's
// x-kubernetes-validations (CEL) rule. A minor whose kube-apiserver is not built is skipped.
func TestMinors(t *testing.T) {
	for _, v := range testbed.APIServerVersions {
		t.Run(v, func(t *testing.T) {
			c := testbed.SharedAPIServer(t, testbed.Options{Version: v})
			t.Logf("apiserver-only bed %s start time: %s", v, c.StartTime)
			info, err := c.Client.Discovery().ServerVersion()
			if err != nil {
				t.Fatalf("server version: %v", err)
			}
			if minor := strings.Split(v, ".")[1]; info.GitVersion != v || info.Major != "1" || info.Minor != minor {
				t.Fatalf("server version %s (major %q minor %q), want %s", info.GitVersion, info.Major, info.Minor, v)
			}
			checkServerVersion(t, c, v)
			checkReleasesConnected(t, c, v, "")
			checkCELCRD(t, c)
		})
	}
}

// checkCELCRD creates a CRD whose schema carries a CEL rule, waits until it is established, and
// has the server accept (and return) a valid object and reject one that breaks the rule.
func checkCELCRD(t *testing.T, c *testbed.Cluster) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ext, err := apiextensionsclient.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const group, plural = "smoke.flexigrobots.test", "widgets"
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{"spec": {
						Type:       "object",
						Properties: map[string]apiextensionsv1.JSONSchemaProps{"min": {Type: "integer"}, "max": {Type: "integer"}},
						XValidations: apiextensionsv1.ValidationRules{{
							Rule: "self.min <= self.max", Message: "min must not exceed max",
						}},
					}},
				}},
			}},
		},
	}
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create CRD: %v", err)
	}
	t.Cleanup(func() {
		_ = ext.ApiextensionsV1().CustomResourceDefinitions().Delete(context.Background(), crd.Name, metav1.DeleteOptions{})
	})
	err = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		got, err := ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, crd.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("CRD %s not established: %v", crd.Name, err)
	}

	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	res := dyn.Resource(schema.GroupVersionResource{Group: group, Version: "v1", Resource: plural}).Namespace("default")
	widget := func(name string, lo, hi int64) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": group + "/v1", "kind": "Widget",
			"metadata": map[string]any{"name": name},
			"spec":     map[string]any{"min": lo, "max": hi},
		}}
	}
	if _, err := res.Create(ctx, widget("ok", 1, 3), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create valid Widget: %v", err)
	}
	got, err := res.Get(ctx, "ok", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("read Widget back: %v", err)
	}
	if hi, _, _ := unstructured.NestedInt64(got.Object, "spec", "max"); hi != 3 {
		t.Errorf("Widget read back with spec.max %d, want 3: %v", hi, got.Object["spec"])
	}
	_, err = res.Create(ctx, widget("bad", 5, 2), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "min must not exceed max") {
		t.Fatalf("Widget breaking the CEL rule: want Invalid with the rule's message, got %v", err)
	}
	t.Logf("CEL rule enforced: %v", err)
}
