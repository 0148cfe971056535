package helm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// celCRD is a CRD whose schema carries a CEL validation rule, as MetalLB's and the GPU
// operator's have from some release on.
const celCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: pools.example.test
spec:
  group: example.test
  names: {kind: Pool, listKind: PoolList, plural: pools, singular: pool}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-validations:
            - rule: "self.metadata.name.size() < 50"
`

// writeChart writes a chart with files (path -> content) and returns its folder.
func writeChart(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pools")
	files["Chart.yaml"] = "apiVersion: v2\nname: pools\nversion: 0.1.0\n"
	return writeFiles(t, dir, files)
}

// TestChartPreflightRefusesWhatTheServerCannotTake: on the runbook's Kubernetes 1.21 (an
// apiserver-only bed), a chart whose CRDs carry CEL rules, in crds/ or rendered from templates,
// or whose templates use a kind the server does not serve, is a usage error naming them before any
// change: no namespace, no release record, no CRD. The same chart without them installs.
func TestChartPreflightRefusesWhatTheServerCannotTake(t *testing.T) {
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V121})
	for name, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"CEL rules in crds/":     {map[string]string{"crds/pools.yaml": celCRD}, []string{"pools.example.test", "Kubernetes 1.21 does not serve"}},
		"CEL rules in templates": {map[string]string{"templates/pools.yaml": celCRD}, []string{"pools.example.test", "CEL validation rules"}},
		"a kind 1.21 does not serve": {map[string]string{"templates/hpa.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\nspec: {scaleTargetRef: {kind: Deployment, name: x}, maxReplicas: 2}\n"},
			[]string{"autoscaling/v2 HorizontalPodAutoscaler (1)"}},
	} {
		t.Run(name, func(t *testing.T) {
			ns := "preflight-" + strings.ToLower(strings.NewReplacer(" ", "-", "/", "", ".", "").Replace(name))
			client := NewClient(c.ConfigFlags(), output.NewProgress(&strings.Builder{}))
			client.CacheDir = t.TempDir()
			_, _, err := client.Ensure(context.Background(), Spec{ReleaseName: "pools", Namespace: ns, CreateNamespace: true,
				Chart: core.ChartSource{Chart: writeChart(t, tc.files)}, Timeout: time.Minute})
			if !core.IsUsageError(err) {
				t.Fatalf("want a usage error, got %v", err)
			}
			for _, w := range append(tc.want, "chart pools-0.1.0 cannot be installed on Kubernetes v1.21.14, nothing was changed") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if _, err := c.Client.CoreV1().Namespaces().Get(context.Background(), ns, metav1.GetOptions{}); err == nil {
				t.Error("the namespace was created")
			}
			if crds, err := c.Client.Discovery().ServerResourcesForGroupVersion("example.test/v1"); err == nil && crds != nil {
				t.Error("the CRD was created")
			}
		})
	}
	t.Run("without them it installs", func(t *testing.T) {
		client := NewClient(c.ConfigFlags(), output.NewProgress(&strings.Builder{}))
		client.CacheDir = t.TempDir()
		res, _, err := client.Ensure(context.Background(), Spec{ReleaseName: "plain", Namespace: "preflight-plain", CreateNamespace: true,
			Chart: core.ChartSource{Chart: writeChart(t, map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})}, Timeout: time.Minute})
		if err != nil || res.Action != output.Installed {
			t.Fatalf("got %s, %v", res.Line(), err)
		}
	})
}
