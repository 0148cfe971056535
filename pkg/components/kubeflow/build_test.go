package kubeflow

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// allEdits are every runbook edit, as the e2e tests use them.
func allEdits(secret string) Edits {
	return Edits{
		OIDCProvider: "https://kubeflow.example.com/dex", RegistrationFlow: true, IngressServiceType: "LoadBalancer",
		DexIssuer: "https://kubeflow.example.com/dex", ContainerRuntime: "containerd://1.7.0",
		GitHub: &GitHub{ClientID: "gh-client-id", Org: "flexigrobots", Teams: []string{"ai", "ops"},
			RedirectURI: "https://kubeflow.example.com/dex/callback", ClientSecret: []byte(secret)},
	}
}

// fixtureSource reads the release's tag archive from the fixtures and its remote bases from the
// fixtures' mirror folder (never from GitHub), without the build cache.
func fixtureSource(t *testing.T, p Profile) Source {
	t.Helper()
	return Source{Manifests: testbed.Fixture(t, "kubeflow/"+p.Top+".tar.gz"), RemoteBasesMirror: testbed.Fixture(t, "kubeflow/remote"), NoBuildCache: true}
}

// TestBuildWithAllEdits builds every release with every edit and finds each edit in the built
// objects (values kustomize substitutes included), and no secret value anywhere in them; the
// remote bases come from the mirror, and the profile's namespaces, claims, store and the
// section's access match what the build holds (checkProfile).
func TestBuildWithAllEdits(t *testing.T) {
	const ghSecret = "gh-secret-value-never-rendered"
	for _, v := range Versions() {
		t.Run(v, func(t *testing.T) {
			p, _ := ProfileFor(v)
			b, err := Build(context.Background(), p, fixtureSource(t, p), allEdits(ghSecret))
			if err != nil {
				t.Fatal(err)
			}
			// Only v1.5.0's build asks the cluster's CA for certificates (the pipelines
			// cache-deployer); later releases use cert-manager, so no CSR-signing probe for them.
			clients := CSRClients(b.Objects)
			if wantClient := v == RunbookVersion; (len(clients) > 0) != wantClient || wantClient && !strings.Contains(strings.Join(clients, ","), "cache-deployer") {
				t.Errorf("CSR clients of %s: %v", v, clients)
			}
			checkProfile(t, b)
			if len(b.Edits) < 8 {
				t.Fatalf("want every edit reported, got %d: %v", len(b.Edits), b.Edits)
			}
			var out bytes.Buffer
			if err := WriteYAML(&out, b.Objects); err != nil {
				t.Fatal(err)
			}
			for _, s := range []string{ghSecret, PublicClientSecret, PublicCookieSecret} {
				if strings.Contains(out.String(), s) {
					t.Fatalf("built manifests contain secret %q", s)
				}
			}
			// What Installed recognizes a release by that the plugin did not record.
			api := find(b.Objects, "Deployment", pipelinesAPIServer.Namespace, pipelinesAPIServer.Name)
			if containers, _, _ := unstructured.NestedSlice(api.Object, "spec", "template", "spec", "containers"); len(containers) == 0 ||
				imageTag(fmt.Sprint(containers[0].(map[string]any)["image"])) != p.PipelinesTag {
				t.Errorf("the build's ml-pipeline runs %v, the profile says tag %q", containers, p.PipelinesTag)
			}
			cd := find(b.Objects, "Deployment", "kubeflow", "centraldashboard")
			if got := EnvValue(cd, "REGISTRATION_FLOW"); got != "true" {
				t.Fatalf("centraldashboard Deployment has REGISTRATION_FLOW=%q (from CD_REGISTRATION_FLOW), want true", got)
			}
			gw := find(b.Objects, "Service", "istio-system", "istio-ingressgateway")
			if typ, _, _ := unstructured.NestedString(gw.Object, "spec", "type"); typ != "LoadBalancer" {
				t.Fatalf("istio-ingressgateway type %q", typ)
			}
			cm := find(b.Objects, "ConfigMap", "auth", "dex")
			cfg, _, _ := unstructured.NestedString(cm.Object, "data", "config.yaml")
			for _, want := range []string{"type: github", "clientSecret: $GITHUB_CLIENT_SECRET", "loadAllGroups: true", "useLoginAsID: true",
				"enablePasswordDB: false", "issuer: https://kubeflow.example.com/dex", "- ai"} {
				if !strings.Contains(cfg, want) {
					t.Fatalf("dex config lacks %q:\n%s", want, cfg)
				}
			}
			if strings.Contains(cfg, "staticPasswords") {
				t.Fatalf("dex config keeps staticPasswords:\n%s", cfg)
			}
			dex := find(b.Objects, "Deployment", "auth", "dex")
			if !strings.Contains(toYAML(t, dex), "name: "+GitHubSecretName) {
				t.Fatalf("dex Deployment lacks the secretKeyRef to %s", GitHubSecretName)
			}
			oidcFound := false
			for _, o := range b.Objects {
				if o.GetKind() == "ConfigMap" && strings.Contains(toYAML(t, o), "https://kubeflow.example.com/dex") && o.GetName() != "dex" {
					oidcFound = true
				}
				if o.GetKind() == "Secret" && (o.GetName() == p.Dex.Generator || strings.HasPrefix(o.GetName(), p.Proxy.Generator)) {
					t.Fatalf("build still generates Secret %s/%s", o.GetNamespace(), o.GetName())
				}
			}
			if !oidcFound {
				t.Fatal("no auth proxy ConfigMap carries the OIDC provider")
			}
			for _, o := range b.Objects {
				if o.GetKind() == "Profile" && (strings.Contains(o.GetName(), "$(") || strings.Contains(toYAML(t, o), "$(")) {
					t.Fatalf("Profile %s keeps $(...) placeholders", o.GetName())
				}
			}
			if v == "v1.5.0" {
				if find(b.Objects, "Deployment", "kubeflow", "ml-pipeline") == nil {
					t.Fatal("pipelines missing")
				}
				converted := 0
				for _, e := range b.Edits {
					if strings.Contains(e.What, "storage version") {
						converted++
					}
				}
				for _, o := range b.Objects {
					if o.GetAPIVersion() == "cert-manager.io/v1alpha2" {
						t.Errorf("%s still at v1alpha2", o.GetName())
					}
				}
				if converted != 4 {
					t.Fatalf("want the 4 cert-manager v1alpha2 objects applied at v1, got %d: %v", converted, b.Edits)
				}
			}
		})
	}
}

func toYAML(t *testing.T, o *unstructured.Unstructured) string {
	t.Helper()
	if o == nil {
		return "<nil>"
	}
	b, err := yaml.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAtStorageVersionKeepsInexactConversions proves an object using a field renamed in the
// storage version keeps its version (the conversion webhook must convert it).
func TestAtStorageVersionKeepsInexactConversions(t *testing.T) {
	objs, err := kube.DecodeManifests([]byte(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: certificates.cert-manager.io}
spec:
  group: cert-manager.io
  names: {kind: Certificate, plural: certificates}
  scope: Namespaced
  conversion: {strategy: Webhook}
  versions:
  - name: v1alpha2
    served: true
    storage: false
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
              commonName: {type: string}
              dnsNames: {type: array, items: {type: string}}
              privateKey: {type: object, properties: {algorithm: {type: string}}}
---
apiVersion: cert-manager.io/v1alpha2
kind: Certificate
metadata: {name: exact, namespace: a}
spec: {commonName: x, dnsNames: [x]}
---
apiVersion: cert-manager.io/v1alpha2
kind: Certificate
metadata: {name: renamed, namespace: a}
spec: {commonName: x, keyAlgorithm: ecdsa}
`))
	if err != nil {
		t.Fatal(err)
	}
	edits := AtStorageVersion(objs)
	if len(edits) != 1 || objs[1].GetAPIVersion() != "cert-manager.io/v1" || objs[2].GetAPIVersion() != "cert-manager.io/v1alpha2" {
		t.Fatalf("edits %v; versions %s %s", edits, objs[1].GetAPIVersion(), objs[2].GetAPIVersion())
	}
}
