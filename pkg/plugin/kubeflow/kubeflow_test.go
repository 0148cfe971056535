package kubeflow

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// parse runs the flags of `kubeflow` through Validate (no cluster).
func parse(t *testing.T, stdin string, args ...string) (*Options, error) {
	t.Helper()
	o := &Options{streams: genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}}
	cmd := newCmdKubeflow(o)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return o, o.Validate()
}

func TestFlagsBindIntoTheSpec(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "gh.txt")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := parse(t, "", "--version", "v1.10.2", "--registration-flow", "--ingress-service-type", "LoadBalancer",
		"--github-client-id", "id", "--github-client-secret-file", secret, "--github-org", "org", "--github-team", "ml",
		"--github-redirect-uri", "https://kf/dex/callback", "--enable-password-db", "--prune=false", "--force-conflicts",
		"--image-registry", "mirror.example:5000/ai", "--image-pull-secret", "mirror-pull")
	if err != nil {
		t.Fatal(err)
	}
	s := o.spec
	if s.Version != "v1.10.2" || !s.RegistrationFlow || s.IngressServiceType != "LoadBalancer" || s.GitHub == nil || s.GitHub.Teams[0] != "ml" ||
		s.EnablePasswordDB == nil || !*s.EnablePasswordDB || !s.NoPrune || !s.ForceConflicts ||
		s.Registry.Registry != "mirror.example:5000/ai" || len(s.PullSecrets) != 1 || s.PullSecrets[0] != "mirror-pull" {
		t.Fatalf("spec %+v", s)
	}
	if got := string(s.Edits().GitHub.ClientSecret); got != "s3cret" {
		t.Fatalf("client secret %q", got)
	}
	o, err = parse(t, "")
	if err != nil || o.spec.GitHub != nil || o.spec.EnablePasswordDB != nil || o.spec.NoPrune {
		t.Fatalf("no flags: %v %+v", err, o.spec)
	}
}

func TestProblemsNameTheFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--ingress-service-type", "clusterip"}, []string{`--ingress-service-type: invalid "clusterip": use LoadBalancer, NodePort or ClusterIP`}},
		{[]string{"--version", "v9"}, []string{`--version: unknown Kubeflow version "v9"`}},
		{[]string{"--github-client-id", "x"}, []string{"3 problems", "--github-client-secret-file: is missing", "--github-org: is missing", "--github-redirect-uri: is missing"}},
		{[]string{"--manifests", "/nope/manifests"}, []string{"--manifests: stat /nope/manifests"}},
		{[]string{"--image-registry", "mirror.example/ai:v1"}, []string{`--image-registry: "mirror.example/ai:v1": want REGISTRY[/PREFIX]`}},
		{[]string{"--image-pull-secret", "-x"}, []string{`--image-pull-secret: "-x" is not a Secret name`}},
		{[]string{"--github-client-id", "x", "--github-client-secret-file", "-", "--github-org", "o", "--github-redirect-uri", "https://x"}, []string{"--github-client-secret-file: - is empty"}},
	} {
		_, err := parse(t, "", tc.args...)
		if core.ExitCode(err) != core.ExitUsage {
			t.Fatalf("%v: want exit 2, got %v", tc.args, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q lacks %q", tc.args, err, w)
			}
		}
	}
}
