package platform

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/testcert"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

// exampleDir writes the files the example refers to (secrets and certificate) into a temp dir.
func exampleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gh-secret.txt"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testcert.Write(t, dir, "kubeflow.example.com", "tls.crt", "tls.key")
	return dir
}

func exampleBytes(t *testing.T) []byte { t.Helper(); return schema.Example }

func TestExampleIsValidAndIsTheRootFile(t *testing.T) {
	dir := exampleDir(t)
	pl, err := Parse("plugins.yaml", dir, schema.Example)
	if err != nil {
		t.Fatal(err)
	}
	if names := len(pl.Blocks); names != len(Order()) {
		t.Fatalf("the example must declare every section, it declares %d", names)
	}
	kb, _ := pl.Block("kubeflow")
	lbb, _ := pl.Block("lb")
	kf, lbs := kb.Spec.(*kubeflow.Spec), lbb.Spec.(*lb.Spec)
	if kf.Version != "" || lbs.Chart.Version != "" {
		t.Fatal("the example must leave versions out (they fit the cluster)")
	}
	if kf.GitHub == nil || !filepath.IsAbs(kf.GitHub.ClientSecretFile) || filepath.Dir(kf.GitHub.ClientSecretFile) != dir {
		t.Fatalf("secret file not resolved against the platform file's folder: %+v", kf.GitHub)
	}
	root, err := os.ReadFile("../../plugins.yaml")
	if err != nil || !bytes.Equal(root, schema.Example) {
		t.Fatalf("plugins.yaml at the repository root must equal schema/plugins.example.yaml (err %v)", err)
	}
}

func TestEveryProblemWithItsLine(t *testing.T) {
	bad := `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: demo
spec:
  storage:
    nfsSever: 192.0.2.10
    nfsPath: /nfsroot/kubeflow_nfs
  lb:
    addresses: [203.0.113.20-203.0.113.10]
    probe: "yes"
  kubeflow:
    dexIssuer: kubeflow.example.com/dex
    github:
      clientID: id
      clientSecret: hunter2
      org: org
      redirectURI: https://kubeflow.example.com/dex/callback
  gpu:
    slicing:
      replicas: 0
  monitoring: {}
`
	_, err := Parse("bad.yaml", t.TempDir(), []byte(bad))
	if !core.IsUsageError(err) {
		t.Fatalf("want a usage error, got %v", err)
	}
	var pe *Errors
	if !errors.As(err, &pe) {
		t.Fatalf("want *Errors, got %T", err)
	}
	msg := err.Error()
	t.Log(msg)
	for _, want := range []string{
		`bad.yaml:7:5: spec.storage.nfsSever: unknown field "nfsSever": did you mean "nfsServer"?`,
		`bad.yaml:6:3: spec.storage: missing required field "nfsServer"`,
		`bad.yaml:11:12: spec.lb.probe:`,
		`bad.yaml:13:16: spec.kubeflow.dexIssuer:`,
		`bad.yaml:16:7: spec.kubeflow.github.clientSecret: "clientSecret" is a secret given inline`,
		`give clientSecretFile: PATH`,
		`bad.yaml:21:17: spec.gpu.slicing.replicas:`,
		`bad.yaml:22:3: spec.monitoring: unknown field "monitoring"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q", want)
		}
	}
	if strings.Contains(msg, "hunter2") {
		t.Error("the inline secret's value was printed")
	}
	if strings.Count(msg, "clientSecret\"") > 1 || strings.Contains(msg, `unknown field "clientSecret"`) {
		t.Error("the inline secret is reported twice")
	}

	// The schema passes; the sections' own rules fail: a range whose ends are swapped.
	ranges := strings.Replace(bad, "nfsSever", "nfsServer", 1)
	ranges = strings.Replace(ranges, `probe: "yes"`, "probe: true", 1)
	ranges = strings.Replace(ranges, "kubeflow.example.com/dex\n", "https://kubeflow.example.com/dex\n", 1)
	ranges = strings.Replace(ranges, "clientSecret: hunter2", "clientSecretFile: missing.txt", 1)
	ranges = strings.Replace(ranges, "replicas: 0", "replicas: 2", 1)
	ranges = strings.Replace(ranges, "  monitoring: {}\n", "", 1)
	_, err = Parse("bad.yaml", t.TempDir(), []byte(ranges))
	msg = err.Error()
	t.Log(msg)
	for _, want := range []string{"bad.yaml:10:17: spec.lb.addresses[0]: ", "swap them", "bad.yaml:16:25: spec.kubeflow.github.clientSecretFile: ", "missing.txt"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q", want)
		}
	}
}

func TestSyntaxAndShape(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"yaml":        {"spec: [\n", "bad.yaml:1:1: not valid YAML"},
		"kind":        {"apiVersion: flexigrobots.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\nspec: {gpu: {}}\n", "bad.yaml:2:7: kind:"},
		"two docs":    {"apiVersion: flexigrobots.io/v1alpha1\n---\nkind: Platform\n", "a second YAML document"},
		"empty spec":  {"apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec: {}\n", "spec:"},
		"tls one of":  {"apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec:\n  tls: {domain: a.example.com}\n", "give exactly one of manual or acme"},
		"bad service": {"apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec:\n  lb: {addresses: [127.240.0.10/32], serviceCIDRs: [10.43.0.0]}\n", "spec.lb.serviceCIDRs"},
	} {
		_, err := Parse("bad.yaml", t.TempDir(), []byte(tc.doc))
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", name, tc.want, err)
		}
	}
}

// TestSchemaAndBlockProblemsAtOnce: a block the schema finds wrong does not hide the other
// blocks' own problems: every entry of lb's addresses and gpu's unknown field in one run.
func TestSchemaAndBlockProblemsAtOnce(t *testing.T) {
	doc := "apiVersion: flexigrobots.io/v1alpha1\nkind: Platform\nmetadata: {name: a}\nspec:\n" +
		"  lb:\n    addresses: [127.240.0.20-127.240.0.10, 10.0.0.5/24]\n" +
		"  gpu:\n    slicing: {replicas: 4}\n    bogus: 1\n"
	_, err := Parse("bad.yaml", t.TempDir(), []byte(doc))
	if !core.IsUsageError(err) {
		t.Fatalf("want a usage error, got %v", err)
	}
	for _, want := range []string{"bad.yaml:6:17: spec.lb.addresses[0]: ", "swap them", "bad.yaml:6:44: spec.lb.addresses[1]: ", "host bits", "bad.yaml:9:5: spec.gpu.bogus: unknown field"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
