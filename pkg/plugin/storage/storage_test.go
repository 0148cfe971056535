package storage

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// parse builds `storage`, parses args into it and validates its Options.
func parse(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	cmd, o := newCmdStorage(nil, genericiooptions.NewTestIOStreamsDiscard())
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o, o.Validate()
}

func TestFlagsFillTheSpec(t *testing.T) {
	o, err := parse(t, "--nfs-server", "192.0.2.10", "--nfs-path", "/nfsroot/kubeflow_nfs/", "--smoke-test", "--set", "a=b")
	if err != nil {
		t.Fatal(err)
	}
	s := o.Spec
	if s.NFSServer != "192.0.2.10" || s.NFSPath != "/nfsroot/kubeflow_nfs" || s.StorageClass != storage.DefaultClass ||
		s.ReleaseNamespace != storage.DefaultNamespace || s.MakeDefault == nil || !*s.MakeDefault || !s.SmokeTest ||
		s.Chart.Repo != storage.DefaultChartRepo || s.Chart.Version != "" || len(s.Chart.Set) != 1 {
		t.Fatalf("spec %+v", s)
	}
	o, err = parse(t, "--nfs-server", "nfs.example.com", "--nfs-path", "/x", "--no-default")
	if err != nil || *o.Spec.MakeDefault {
		t.Fatalf("--no-default: %v, %+v", err, o.Spec)
	}
	o, err = parse(t, "--nfs-server", "h", "--nfs-path", "/x", "--image-registry", "mirror.example:5000/ai", "--image-pull-secret", "a", "--image-pull-secret", "b")
	if r := o.Spec.Registry; err != nil || r.Registry != "mirror.example:5000/ai" || strings.Join(r.PullSecrets, ",") != "a,b" {
		t.Fatalf("--image-registry, --image-pull-secret: %v, %+v", err, r)
	}
}

func TestProblemsNameTheFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nfs-path", "/x"}, "--nfs-server: is required"},
		{[]string{"--nfs-server", "nfs server", "--nfs-path", "/x"}, "--nfs-server: \"nfs server\" is neither"},
		{[]string{"--nfs-server", "h"}, "--nfs-path: is required"},
		{[]string{"--nfs-server", "h", "--nfs-path", "x"}, "--nfs-path: \"x\" is relative"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--storage-class", "NFS_Client"}, "--storage-class: \"NFS_Client\" is not a valid StorageClass name"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--release-namespace", "a.b"}, "--release-namespace: \"a.b\" is not a valid namespace name"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--set", "nfs.path"}, "--set: \"nfs.path\": want key=value"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--chart-cert-file", "c.pem"}, "--chart-cert-file: goes with --chart-key-file"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "-f", "/nonexistent/values.yaml"}, "-f: stat /nonexistent/values.yaml"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--image-registry", "https://mirror.example"}, `--image-registry: "https://mirror.example": want REGISTRY[/PREFIX]`},
		{[]string{"--nfs-server", "h", "--nfs-path", "/x", "--image-pull-secret", "Pull_Secret"}, `--image-pull-secret: "Pull_Secret" is not a Secret name`},
	} {
		_, err := parse(t, tc.args...)
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want a usage error with %q, got %v", tc.args, tc.want, err)
		}
	}
}

func TestNoDefaultHelp(t *testing.T) {
	cmd := NewCmdStorage(nil, genericiooptions.NewTestIOStreamsDiscard())
	usage := cmd.Flags().FlagUsages()
	if !strings.Contains(usage, "      --no-default   ") || strings.Contains(usage, "--no-default bool") || strings.Contains(usage, "--no-default[") {
		t.Fatalf("--no-default help is not a plain bool flag's:\n%s", usage)
	}
}

func TestFlagOf(t *testing.T) {
	for field, flag := range map[string]string{
		"nfsServer": "--nfs-server", "nfsPath": "--nfs-path", "storageClass": "--storage-class", "releaseNamespace": "--release-namespace",
		"default": "--no-default", "smokeTest": "--smoke-test", "chart.repo": "--chart-repo", "chart.version": "--chart-version",
		"chart.set[1]": "--set", "chart.valuesFiles[0]": "-f", "chart.caFile": "--chart-ca-file",
		"imageRegistry": "--image-registry", "imagePullSecrets[1]": "--image-pull-secret",
	} {
		if got := flagOf(field); got != flag {
			t.Errorf("flagOf(%q) = %q, want %q", field, got, flag)
		}
	}
}
