package gpu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

func mutating() cmdutil.MutatingFlags {
	return cmdutil.MutatingFlags{DryRun: core.DryRunNone, Wait: true, Timeout: time.Minute, Output: "table"}
}

func TestSlicingValidate(t *testing.T) {
	valid := func() *SlicingOptions {
		o := newSlicingOptions(nil, genericiooptions.IOStreams{})
		o.MutatingFlags = mutating()
		o.Spec.Operator = gpucomp.OperatorSpec{ReleaseNamespace: "gpu-operator", Chart: core.ChartSource{Repo: "https://charts.example.org"}}
		o.Spec.Slicing.ConfigName = "time-slicing-config"
		return o
	}
	for _, tc := range []struct {
		name   string
		edit   func(*SlicingOptions)
		want   int
		errHas string
	}{
		{"replicas 4", func(o *SlicingOptions) { o.Spec.Slicing.Replicas = 4 }, 4, ""},
		{"disable", func(o *SlicingOptions) { o.Disable = true }, 1, ""},
		{"disable with replicas 1", func(o *SlicingOptions) { o.Disable, o.Spec.Slicing.Replicas = true, 1 }, 1, ""},
		{"no replicas", func(o *SlicingOptions) {}, 0, "--replicas is required"},
		{"disable with replicas 4", func(o *SlicingOptions) { o.Disable, o.Spec.Slicing.Replicas = true, 4 }, 0, "drop --replicas 4"},
		{"bad config name", func(o *SlicingOptions) { o.Spec.Slicing.Replicas, o.Spec.Slicing.ConfigName = 2, "Time_Slicing" }, 0, `--config-name: "Time_Slicing"`},
		{"empty namespace", func(o *SlicingOptions) { o.Spec.Slicing.Replicas, o.Spec.Operator.ReleaseNamespace = 2, "" }, 0, "--release-namespace: is empty"},
		{"bad output", func(o *SlicingOptions) { o.Spec.Slicing.Replicas, o.Output = 2, "xml" }, 0, "output format"},
		{"bad set", func(o *SlicingOptions) { o.Spec.Slicing.Replicas, o.Spec.Operator.Chart.Set = 2, core.SetValues{"x"} }, 0, `--set: "x": want key=value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.edit(o)
			err := o.Validate()
			if tc.errHas == "" {
				if err != nil || o.Spec.Slicing.Replicas != tc.want {
					t.Fatalf("Validate: %v, replicas %d; want nil, %d", err, o.Spec.Slicing.Replicas, tc.want)
				}
				return
			}
			if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("Validate: %v; want a usage error containing %q", err, tc.errHas)
			}
		})
	}
}

// TestOperatorValidate: the acceptance on the command: a client certificate without its
// key is refused with the flags' names.
func TestOperatorValidate(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "client.crt")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := &OperatorOptions{MutatingFlags: mutating()}
	o.Spec.Operator = gpucomp.OperatorSpec{ReleaseNamespace: gpucomp.DefaultNamespace, Chart: core.ChartSource{Repo: gpucomp.DefaultChartRepo}}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	o.Spec.Operator.Chart.CertFile = cert
	err := o.Validate()
	if !core.IsUsageError(err) || err.Error() != "--chart-cert-file: goes with --chart-key-file: give both" {
		t.Fatalf("cert without key: %v", err)
	}
	o.Spec.Operator.Chart.KeyFile = filepath.Join(filepath.Dir(cert), "missing.key")
	if err := o.Validate(); !core.IsUsageError(err) || !strings.HasPrefix(err.Error(), "--chart-key-file: stat ") {
		t.Fatalf("missing key file: %v", err)
	}
}

func TestFlagOf(t *testing.T) {
	for field, want := range map[string]string{
		"operator.releaseNamespace": "--release-namespace", "operator.chart.certFile": "--chart-cert-file",
		"operator.chart.version": "--chart-version", "operator.chart.set[1]": "--set", "operator.chart.valuesFiles[0]": "-f",
		"slicing.replicas": "--replicas", "slicing.configName": "--config-name",
		"imageRegistry": "--image-registry", "imagePullSecrets[0]": "--image-pull-secret",
	} {
		if got := flagOf(field); got != want {
			t.Errorf("flagOf(%s) = %s, want %s", field, got, want)
		}
	}
}

// TestFlagsBindIntoTheSpec: the commands' flags fill the section's Spec, with its defaults.
func TestFlagsBindIntoTheSpec(t *testing.T) {
	o := newSlicingOptions(nil, genericiooptions.IOStreams{})
	cmd := newCmdSlicing(o)
	if err := cmd.ParseFlags([]string{"--replicas", "4", "--release-namespace", "gpu", "--chart-version", "v23.6.2", "--rename-by-default"}); err != nil {
		t.Fatal(err)
	}
	if sl, op := o.Spec.Slicing, o.Spec.Operator; !o.Spec.SkipOperator || sl.Replicas != 4 || !sl.RenameByDefault || sl.ConfigName != gpucomp.DefaultConfigName ||
		op.ReleaseNamespace != "gpu" || op.Chart.Version != "v23.6.2" || op.Chart.Repo != gpucomp.DefaultChartRepo {
		t.Fatalf("gpu slicing flags: %+v", o.Spec)
	}
	if err := cmd.ParseFlags([]string{"--replicas", "65"}); err == nil || !strings.Contains(err.Error(), "1 to 64") {
		t.Fatalf("--replicas 65: %v", err)
	}
	op := NewCmdOperator(nil, genericiooptions.IOStreams{})
	for cmd, want := range map[string]string{"release-namespace": gpucomp.DefaultNamespace, "chart-repo": gpucomp.DefaultChartRepo, "timeout": gpucomp.DefaultTimeout.String()} {
		if got := op.Flags().Lookup(cmd).DefValue; got != want {
			t.Errorf("gpu operator --%s default %q, want %q", cmd, got, want)
		}
	}
	if got := cmd.Flags().Lookup("config-name").DefValue; got != gpucomp.DefaultConfigName {
		t.Errorf("--config-name default %q", got)
	}
}

// TestOperatorImageRegistryFlags: `gpu operator`'s --image-registry and --image-pull-secret fill
// the block's top-level registry; a bad value is a usage error naming the flag.
func TestOperatorImageRegistryFlags(t *testing.T) {
	parse := func(args ...string) (*OperatorOptions, error) {
		t.Helper()
		o := &OperatorOptions{}
		cmd := newCmdOperator(o)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		return o, o.Validate()
	}
	o, err := parse("--image-registry", "mirror.example:5000/ai", "--image-pull-secret", "a", "--image-pull-secret", "b")
	if r := o.Spec.Registry; err != nil || r.Registry != "mirror.example:5000/ai" || strings.Join(r.PullSecrets, ",") != "a,b" {
		t.Fatalf("gpu operator: %v, %+v", err, r)
	}
	for args, want := range map[string]string{
		"--image-registry=mirror.example:5000/ai:latest": `--image-registry: "mirror.example:5000/ai:latest": want REGISTRY[/PREFIX]`,
		"--image-pull-secret=Bad_Name":                   `--image-pull-secret: "Bad_Name" is not a Secret name`,
	} {
		_, err := parse(args)
		if core.ExitCode(err) != core.ExitUsage || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: want a usage error %q, got %v", args, want, err)
		}
	}
}
