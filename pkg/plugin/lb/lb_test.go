package lb

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	complb "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// validate parses args into a fresh `lb` and validates them.
func validate(t *testing.T, args ...string) (*Options, string, error) {
	t.Helper()
	var errOut bytes.Buffer
	o := &Options{streams: genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}}
	cmd := newCmdLB(o)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	err := o.Validate()
	return o, errOut.String(), err
}

func TestValidateNamesFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "--addresses: is empty"},
		{[]string{"--addresses", "127.240.0.0/33"}, `--addresses entry 1: "127.240.0.0/33" is not a CIDR (prefix length out of range): want e.g.`},
		{[]string{"--addresses", "127.240.0.10/32,,127.240.0.11/32"}, "--addresses entry 2: empty entry"},
		{[]string{"--addresses", "127.240.0.0/28,127.240.0.5/32"}, "--addresses entry 2: 127.240.0.5/32 overlaps 127.240.0.0/28 (--addresses entry 1)"},
		{[]string{"--addresses", "127.240.0.10/32", "--pool", "AI_Pool"}, `--pool: "AI_Pool" is not a valid object name`},
		{[]string{"--addresses", "127.240.0.10/32", "--release-namespace", "metallb.system"}, "--release-namespace: \"metallb.system\" is not a valid namespace name"},
		{[]string{"--addresses", "127.240.0.10/32", "--service-cidr", "127.96.0.0"}, `--service-cidr entry 1: "127.96.0.0" is not a CIDR`},
		{[]string{"--addresses", "127.240.0.10/32", "--chart-repo", ""}, "--chart-repo: is empty: give a repository URL or --chart"},
		{[]string{"--addresses", "127.240.0.10/32", "--chart-cert-file", "c.pem"}, "--chart-cert-file: goes with --chart-key-file"},
		{[]string{"--addresses", "127.240.0.10/32", "-f", "/nonexistent/values.yaml"}, "-f: stat /nonexistent/values.yaml"},
		{[]string{"--addresses", "x", "--pool", "A"}, "2 problems, nothing was changed:\n  --addresses entry 1: "},
		{[]string{"--addresses", "127.240.0.10/32", "--image-registry", "oci:./images"}, `--image-registry: "oci:./images" is a folder or a file`},
		{[]string{"--addresses", "127.240.0.10/32", "--image-pull-secret", "ok", "--image-pull-secret", "Not_OK"}, `--image-pull-secret entry 2: "Not_OK" is not a Secret name`},
	}
	for _, tc := range cases {
		_, _, err := validate(t, tc.args...)
		if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want a usage error saying %q", tc.args, err, tc.want)
		}
	}
}

func TestValidateProbe(t *testing.T) {
	// Probe only: no --addresses needed.
	if _, _, err := validate(t, "--probe"); err != nil {
		t.Errorf("--probe alone: %v", err)
	}
	// A dry run no longer refuses the probe: the section skips it and says so in the report.
	if o, _, err := validate(t, "--addresses", "127.240.0.10/32", "--probe", "--dry-run=server"); err != nil || !o.Spec.Probe {
		t.Errorf("--probe --dry-run: %v (probe %v)", err, o.Spec.Probe)
	}
	// --diff skips it with a note on stderr.
	o, stderr, err := validate(t, "--addresses", "127.240.0.10/32", "--probe", "--diff")
	if err != nil || o.Spec.Probe || !strings.Contains(stderr, "--probe skipped: --diff changes nothing") {
		t.Errorf("--probe --diff: %v, probe %v, stderr %q", err, o.Spec.Probe, stderr)
	}
}

func TestFlagsBindTheSpec(t *testing.T) {
	o, _, err := validate(t, "--addresses", "127.240.0.10/32,127.240.0.20-127.240.0.21", "--pool", "p", "--prune=false", "--fix-strict-arp", "--chart-version", "0.14.3",
		"--image-registry", "mirror.example:5000/ai", "--image-pull-secret", "mirror-pull")
	if err != nil {
		t.Fatal(err)
	}
	s := o.Spec
	if len(s.Addresses) != 2 || s.Pool != "p" || !s.NoPrune || !s.FixStrictARP || s.Chart.Version != "0.14.3" || s.L2Advertisement != "ai-platform" ||
		s.Registry.Registry != "mirror.example:5000/ai" || len(s.PullSecrets) != 1 || s.PullSecrets[0] != "mirror-pull" {
		t.Fatalf("spec %+v", s)
	}
	if o, _, _ := validate(t, "--addresses", "127.240.0.10/32"); o.Spec.NoPrune {
		t.Fatal("--prune defaults to true")
	}
	if o, _, _ := validate(t, "--addresses", "127.240.0.10/32", "--prune"); o.Spec.NoPrune {
		t.Fatal("--prune alone means true")
	}
}

func TestRenderedPrepareError(t *testing.T) {
	err := rendered(core.UsageErrorf("lb: {chart.version}: MetalLB chart 0.15.3 cannot be installed; e.g. {chart.version} 0.14.3"))
	if core.ExitCode(err) != core.ExitUsage || err.Error() != "lb: --chart-version: MetalLB chart 0.15.3 cannot be installed; e.g. --chart-version 0.14.3" {
		t.Fatalf("%d %v", core.ExitCode(err), err)
	}
}

func TestFlagDefaultsAreTheSpecDefaults(t *testing.T) {
	o, _, err := validate(t, "--probe")
	if err != nil {
		t.Fatal(err)
	}
	want := complb.Spec{Probe: true}
	want.Default()
	got := o.Spec
	if got.Pool != want.Pool || got.L2Advertisement != want.L2Advertisement || got.ReleaseNamespace != want.ReleaseNamespace ||
		got.ReleaseName != want.ReleaseName || got.Chart.Repo != want.Chart.Repo || got.Chart.Version != want.Chart.Version || got.Chart.Keyring != want.Chart.Keyring || got.NoPrune != want.NoPrune {
		t.Fatalf("flag defaults %+v, Spec defaults %+v", got, want)
	}
}
