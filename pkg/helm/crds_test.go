package helm

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// writeCRDChart writes a chart whose crds/ holds the Widget CRD (with a "size" field from version
// 0.2.0 on) and whose templates hold a Widget, so installing needs the CRD served first.
func writeCRDChart(t *testing.T, version string, withSize bool) string {
	dir := filepath.Join(t.TempDir(), "widgets")
	props := "color: {type: string}"
	if withSize {
		props += "\n                size: {type: integer}"
	}
	files := map[string]string{
		"Chart.yaml":  fmt.Sprintf("apiVersion: v2\nname: widgets\nversion: %s\n", version),
		"values.yaml": "color: blue\n",
		"crds/widgets.yaml": `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.test
spec:
  group: example.test
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                ` + props + "\n",
		"templates/widget.yaml": "apiVersion: example.test/v1\nkind: Widget\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  color: {{ .Values.color }}\n",
	}
	return writeFiles(t, dir, files)
}

// writeFiles writes files (path -> content) under dir and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestEnsureAppliesCRDsOnUpgrade proves the ApplyCRDs hook: chart crds/ are applied by the apply
// engine on install and on upgrade (helm alone never upgrades crds/), and a re-run moves nothing.
func TestEnsureAppliesCRDsOnUpgrade(t *testing.T) {
	bed := testbed.StartT(t, testbed.Options{})
	flags := bed.ConfigFlags()
	discoveries := countDiscovery(flags)
	clients, err := kube.NewClients(kube.NewFactory(flags))
	if err != nil {
		t.Fatal(err)
	}
	var applied []output.Result
	hook := func(ctx context.Context, crds []*unstructured.Unstructured) error {
		rep, err := (&kube.Applier{Clients: clients}).Apply(ctx, crds)
		if rep != nil {
			applied = append(applied, rep.Results...)
		}
		return err
	}
	c := NewClient(flags, output.NewProgress(&syncBuffer{}))
	spec := func(chartDir string) Spec {
		return Spec{ReleaseName: "widgets", Namespace: "widgets", CreateNamespace: true, Chart: core.ChartSource{Chart: chartDir}, ApplyCRDs: hook}
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crdProps := func() (map[string]any, string) {
		u, err := clients.Dynamic.Resource(crdGVR).Get(context.Background(), "widgets.example.test", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get CRD: %v", err)
		}
		vs, _, _ := unstructured.NestedSlice(u.Object, "spec", "versions")
		props, _, _ := unstructured.NestedMap(vs[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec", "properties")
		return props, u.GetResourceVersion()
	}

	res, _, err := c.Ensure(context.Background(), spec(writeCRDChart(t, "0.1.0", false)))
	if err != nil || res.Action != output.Installed {
		t.Fatalf("install: %s %v", res.Line(), err)
	}
	if len(applied) != 1 || applied[0].Action != output.Created {
		t.Fatalf("CRD not applied by the hook on install: %+v", applied)
	}
	widgets := schema.GroupVersionResource{Group: "example.test", Version: "v1", Resource: "widgets"}
	if _, err := clients.Dynamic.Resource(widgets).Namespace("widgets").Get(context.Background(), "widgets", metav1.GetOptions{}); err != nil {
		t.Fatalf("the chart's Widget was not created after its CRD: %v", err)
	}
	if props, _ := crdProps(); props["size"] != nil {
		t.Fatalf("0.1.0 CRD has size: %v", props)
	}

	v2 := writeCRDChart(t, "0.2.0", true)
	applied = nil
	res, rel, err := c.Ensure(context.Background(), spec(v2))
	if err != nil || res.Action != output.Upgraded || rel.Version != 2 {
		t.Fatalf("upgrade: %s %v", res.Line(), err)
	}
	props, rv := crdProps()
	if props["size"] == nil || len(applied) != 1 || applied[0].Action != output.Configured {
		t.Fatalf("CRD not upgraded: properties %v, hook results %+v", props, applied)
	}

	applied = nil
	mapper, err := flags.ToRESTMapper()
	if err != nil {
		t.Fatal(err)
	}
	mapWidget := func() {
		t.Helper()
		if _, err := mapper.RESTMapping(schema.GroupKind{Group: "example.test", Kind: "Widget"}, "v1"); err != nil {
			t.Fatalf("map Widget: %v", err)
		}
	}
	mapWidget()
	before := discoveries.Load()
	res, _, err = c.Ensure(context.Background(), spec(v2))
	if err != nil || res.Action != output.Unchanged {
		t.Fatalf("re-run: %s %v", res.Line(), err)
	}
	if _, rv2 := crdProps(); rv2 != rv || len(applied) != 1 || applied[0].Action != output.Unchanged {
		t.Fatalf("re-run moved the CRD (%s -> %s) or did not report it unchanged: %+v", rv, rv2, applied)
	}
	// No CRD changed, so the discovery read before stays: what maps kinds after the release (the
	// next section of an apply -f) downloads none again.
	mapWidget()
	if n := discoveries.Load() - before; n != 0 {
		t.Fatalf("a re-run that changed no CRD made %d discovery requests (discovery dropped)", n)
	}
}

// countDiscovery counts the discovery requests (GET /api, /apis and their group versions) made
// through every client flags builds from then on.
func countDiscovery(flags *genericclioptions.ConfigFlags) *atomic.Int64 {
	n := &atomic.Int64{}
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return roundTripFunc(func(r *http.Request) (*http.Response, error) {
				p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
				if r.Method == http.MethodGet && (p[0] == "api" && len(p) <= 2 || p[0] == "apis" && len(p) <= 3) {
					n.Add(1)
				}
				return rt.RoundTrip(r)
			})
		})
		return c
	}
	return n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
