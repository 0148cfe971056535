package kubeflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

func TestSpecValidate(t *testing.T) {
	gh := func(mod func(*GitHubSpec)) *GitHubSpec {
		g := &GitHubSpec{ClientID: "id", ClientSecretFile: "secret.txt", Org: "org", RedirectURI: "https://kf.example.com/dex/callback"}
		if mod != nil {
			mod(g)
		}
		return g
	}
	for _, tc := range []struct {
		name  string
		spec  Spec
		field string // "" for a valid spec
		frag  string
	}{
		{"empty is valid", Spec{}, "", ""},
		{"every field", Spec{Version: "v1.10.2", OIDCProvider: "https://kf.example.com/dex", IngressServiceType: "LoadBalancer", DexIssuer: "http://dex", GitHub: gh(nil)}, "", ""},
		{"version without v", Spec{Version: "1.5.0"}, "", ""},
		{"unknown version", Spec{Version: "v9.9.9"}, "version", `unknown Kubeflow version "v9.9.9": use one of v1.5.0, v1.9.1, v1.10.2, v1.11.0, 26.03`},
		{"ingress type case", Spec{IngressServiceType: "clusterip"}, "ingressServiceType", `invalid "clusterip": use LoadBalancer, NodePort or ClusterIP`},
		{"oidc provider not a URL", Spec{OIDCProvider: "kf.example.com"}, "oidcProvider", "want an http(s) URL"},
		{"dex issuer not a URL", Spec{DexIssuer: "ftp://x"}, "dexIssuer", "want an http(s) URL"},
		{"redirect not a URL", Spec{GitHub: gh(func(g *GitHubSpec) { g.RedirectURI = "kf/callback" })}, "github.redirectURI", "want an http(s) URL"},
		{"github without client ID", Spec{GitHub: gh(func(g *GitHubSpec) { g.ClientID = "" })}, "github.clientID", "the GitHub connector needs it"},
		{"github without secret file", Spec{GitHub: gh(func(g *GitHubSpec) { g.ClientSecretFile = "" })}, "github.clientSecretFile", "client secret"},
		{"github without org", Spec{GitHub: gh(func(g *GitHubSpec) { g.Org = "" })}, "github.org", "organization"},
		{"github without redirect", Spec{GitHub: gh(func(g *GitHubSpec) { g.RedirectURI = "" })}, "github.redirectURI", "callback URL"},
		{"empty team", Spec{GitHub: gh(func(g *GitHubSpec) { g.Teams = []string{"ml", ""} })}, "github.teams[1]", "{github.org}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps := tc.spec.Validate()
			if tc.field == "" {
				if len(ps) > 0 {
					t.Fatalf("want no problem, got %v", ps)
				}
				return
			}
			for _, p := range ps {
				if p.Field == tc.field && strings.Contains(p.Message, tc.frag) {
					return
				}
			}
			t.Fatalf("want a problem at %s with %q, got %v", tc.field, tc.frag, ps)
		})
	}
}

func TestSpecLoadReadsTheSecretAndStatsTheManifests(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "gh.txt"), []byte(" s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.txt"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Spec{Manifests: "manifests.tar.gz", GitHub: &GitHubSpec{ClientID: "id", ClientSecretFile: "gh.txt", Org: "o", RedirectURI: "https://x/dex/callback"}}
	s.Resolve(func(p string) string { return filepath.Join(dir, p) })
	ps := s.Load()
	if len(ps) != 1 || ps[0].Field != "manifests" || !strings.Contains(ps[0].Message, "give a kubeflow/manifests checkout folder") {
		t.Fatalf("want the missing manifests only, got %v", ps)
	}
	if got := string(s.Edits().GitHub.ClientSecret); got != "s3cret" {
		t.Fatalf("client secret %q, want the file's, trimmed", got)
	}
	url := &Spec{Manifests: "https://mirror/manifests.tar.gz"}
	url.Resolve(func(p string) string { return "/nope/" + p })
	if url.Manifests != "https://mirror/manifests.tar.gz" || len(url.Load()) != 0 {
		t.Fatalf("a URL is left as is and not stat-checked: %q", url.Manifests)
	}
	empty := &Spec{GitHub: &GitHubSpec{ClientSecretFile: filepath.Join(dir, "empty.txt")}}
	if ps := empty.Load(); len(ps) != 1 || ps[0].Field != "github.clientSecretFile" || !strings.Contains(ps[0].Message, "is empty") {
		t.Fatalf("empty secret file: %v", ps)
	}
	missing := &Spec{GitHub: &GitHubSpec{ClientSecretFile: filepath.Join(dir, "nope.txt")}}
	if ps := missing.Load(); len(ps) != 1 || ps[0].Field != "github.clientSecretFile" {
		t.Fatalf("missing secret file: %v", ps)
	}
	stdin := &Spec{GitHub: &GitHubSpec{ClientSecretFile: "-"}}
	stdin.SetStdin(strings.NewReader("from-stdin\n"))
	if ps := stdin.Load(); len(ps) != 0 || string(stdin.Edits().GitHub.ClientSecret) != "from-stdin" {
		t.Fatalf("- reads stdin: %v", ps)
	}
}

func TestSectionContract(t *testing.T) {
	var _ section.FileSpec = &Spec{}
	if Section.Name() != Name || Section.Access().Name != Name {
		t.Fatalf("name %q, access %q", Section.Name(), Section.Access().Name)
	}
	if _, ok := Section.NewSpec().(*Spec); !ok {
		t.Fatal("NewSpec is not a *Spec")
	}
	ids := func(s *Spec) string {
		var out []string
		for _, c := range Section.PostConditions(s) {
			out = append(out, c.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		spec *Spec
		want string
	}{
		{&Spec{}, "KUBEFLOW-001,KUBEFLOW-004"},
		{&Spec{OIDCProvider: "https://kf.example.com/dex"}, "KUBEFLOW-004"},
		{&Spec{GitHub: &GitHubSpec{ClientID: "id"}}, "KUBEFLOW-001,KUBEFLOW-003,KUBEFLOW-004"},
	} {
		if got := ids(tc.spec); got != tc.want {
			t.Errorf("%+v: post-conditions %s, want %s", tc.spec, got, tc.want)
		}
	}
}
