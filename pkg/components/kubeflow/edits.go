package kubeflow

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"
)

// Names of the Secrets converge owns (never in the build, never printed).
const (
	// GitHubSecretName holds the GitHub OAuth app's client secret in namespace auth.
	GitHubSecretName = "dex-github-client"
	// GitHubSecretKey is its data key, also the environment variable dex expands.
	GitHubSecretKey = "GITHUB_CLIENT_SECRET"
)

// GitHub is dex's GitHub connector (runbook: dex with GitHub login for an organization).
type GitHub struct {
	ClientID    string
	Org         string
	Teams       []string
	RedirectURI string
	// ClientSecret is read from a file or stdin; it goes into Secret dex-github-client only.
	ClientSecret []byte
}

// Edits are the runbook's changes to the manifests, each optional.
type Edits struct {
	// OIDCProvider is the auth proxy's OIDC issuer URL (v1.5 OIDC_PROVIDER, v1.10 oidc_issuer_url).
	OIDCProvider string
	// RegistrationFlow sets CD_REGISTRATION_FLOW=true (new users create their profile).
	RegistrationFlow bool
	// IngressServiceType is istio-ingressgateway's Service type (LoadBalancer, NodePort or ClusterIP).
	IngressServiceType string
	// DexIssuer is dex's issuer URL.
	DexIssuer string
	// GitHub adds dex's GitHub connector when set.
	GitHub *GitHub
	// PasswordDB is dex's enablePasswordDB; nil means true without a connector, false with one
	// (the static example user is removed whenever it is false).
	PasswordDB *bool
	// ExampleUser keeps dex's static example user with Kubeflow's published password instead of
	// a generated one (the build then keeps dex-passwords as shipped).
	ExampleUser bool
	// ContainerRuntime of the nodes (v1.5 picks the pipelines variant; "" keeps the example's).
	ContainerRuntime string
}

// Edit is one change made to the tree, for the report.
type Edit struct {
	File string `json:"file"`
	What string `json:"what"`
}

// apply makes the edits on the tree in memory and returns what it changed. The OIDC client
// secrets' generators are always removed: converge owns those Secrets with generated values.
func (e Edits) apply(t *Tree, p Profile) ([]Edit, error) {
	var out []Edit
	add := func(file, format string, args ...any) {
		out = append(out, Edit{File: file, What: fmt.Sprintf(format, args...)})
	}
	if e.OIDCProvider != "" {
		if err := setKey(t, p.OIDCFile, p.OIDCKey, e.OIDCProvider); err != nil {
			return nil, err
		}
		add(p.OIDCFile, "%s = %s", p.OIDCKey, e.OIDCProvider)
	}
	if e.RegistrationFlow {
		if err := setKey(t, p.DashboardParams, "CD_REGISTRATION_FLOW", "true"); err != nil {
			return nil, err
		}
		add(p.DashboardParams, "CD_REGISTRATION_FLOW = true")
	}
	if p.UserProfile != "" {
		n, err := fillPlaceholders(t, p.UserProfile)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			add(path.Join(p.UserProfile, "profile-instance.yaml"), "%d $(...) placeholders filled from params.env (kustomize v5 leaves them: the replacements select the Profile by its placeholder name)", n)
		}
	}
	dexEdits, err := e.editDex(t, p)
	if err != nil {
		return nil, err
	}
	out = append(out, dexEdits...)
	for _, cs := range []ClientSecret{p.Dex, p.Proxy} {
		if err := removeGenerator(t, cs.File, cs.Generator); err != nil {
			return nil, err
		}
		add(cs.File, "secretGenerator %s removed: Secret %s/%s gets a generated OIDC client secret instead of Kubeflow's public default (created by converge, not rendered)", cs.Generator, cs.Namespace, cs.Generator)
	}
	example := path.Join(p.Build, "kustomization.yaml")
	var patches []any
	if e.IngressServiceType != "" {
		patches = append(patches, map[string]any{
			"target": map[string]any{"version": "v1", "kind": "Service", "name": "istio-ingressgateway", "namespace": "istio-system"},
			"patch":  fmt.Sprintf(`[{"op": "add", "path": "/spec/type", "value": %q}]`, e.IngressServiceType),
		})
		add(example, "Service istio-system/istio-ingressgateway type %s", e.IngressServiceType)
	}
	if e.GitHub != nil {
		patches = append(patches, map[string]any{
			"target": map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "name": "dex", "namespace": "auth"},
			"patch": fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: dex, namespace: auth}\nspec:\n  template:\n    spec:\n      containers:\n      - name: dex\n        env:\n        - name: %s\n          valueFrom: {secretKeyRef: {name: %s, key: %s}}\n",
				GitHubSecretKey, GitHubSecretName, GitHubSecretKey),
		})
		add(example, "Deployment auth/dex env %s from Secret auth/%s (the secret never enters the ConfigMap)", GitHubSecretKey, GitHubSecretName)
	}
	pipelines := ""
	if p.PipelinesPNS != "" && e.ContainerRuntime != "" && !allDocker(e.ContainerRuntime) {
		pipelines = p.PipelinesPNS
		add(example, "Kubeflow Pipelines %s (nodes run %s, not Docker: the PNS executor needs no Docker socket)", path.Base(pipelines), e.ContainerRuntime)
	} else if p.Pipelines != "" && e.ContainerRuntime != "" {
		add(example, "Kubeflow Pipelines %s kept (nodes run Docker)", path.Base(p.Pipelines))
	}
	if len(patches) > 0 || pipelines != "" {
		err := editYAML(t, example, func(k map[string]any) error {
			if pipelines != "" {
				res, _ := k["resources"].([]any)
				found := false
				for i, r := range res {
					if s, _ := r.(string); strings.TrimSpace(s) == p.Pipelines {
						res[i], found = pipelines, true
					}
				}
				if !found {
					return fmt.Errorf("resource %s not found", p.Pipelines)
				}
			}
			if len(patches) > 0 {
				old, _ := k["patches"].([]any)
				k["patches"] = append(old, patches...)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// passwordDB is dex's enablePasswordDB as the edits set it: PasswordDB, else true without a
// connector.
func (e Edits) passwordDB() bool {
	if e.PasswordDB != nil {
		return *e.PasswordDB
	}
	return e.GitHub == nil
}

// editDex sets dex's issuer, GitHub connector and password DB in its ConfigMap's config.yaml.
func (e Edits) editDex(t *Tree, p Profile) ([]Edit, error) {
	passwordDB := e.passwordDB()
	if e.DexIssuer == "" && e.GitHub == nil && passwordDB {
		return nil, nil
	}
	var out []Edit
	err := editYAML(t, p.DexConfigMap, func(cm map[string]any) error {
		data, _ := cm["data"].(map[string]any)
		raw, _ := data["config.yaml"].(string)
		cfg := map[string]any{}
		if err := yaml.Unmarshal([]byte(raw), &cfg); err != nil {
			return fmt.Errorf("dex config.yaml: %w", err)
		}
		if e.DexIssuer != "" {
			cfg["issuer"] = e.DexIssuer
			out = append(out, Edit{p.DexConfigMap, "dex issuer = " + e.DexIssuer})
		}
		if g := e.GitHub; g != nil {
			org := map[string]any{"name": g.Org}
			if len(g.Teams) > 0 {
				org["teams"] = g.Teams
			}
			cfg["connectors"] = []any{map[string]any{
				"type": "github", "id": "github", "name": "GitHub",
				"config": map[string]any{
					"clientID": g.ClientID, "clientSecret": "$" + GitHubSecretKey, "redirectURI": g.RedirectURI,
					"orgs": []any{org}, "loadAllGroups": true, "useLoginAsID": true,
				},
			}}
			teams := ""
			if len(g.Teams) > 0 {
				teams = " teams " + strings.Join(g.Teams, ",")
			}
			out = append(out, Edit{p.DexConfigMap, fmt.Sprintf("dex GitHub connector: org %s%s, redirectURI %s, loadAllGroups, useLoginAsID, clientSecret from $%s", g.Org, teams, g.RedirectURI, GitHubSecretKey)})
		}
		if !passwordDB {
			cfg["enablePasswordDB"] = false
			delete(cfg, "staticPasswords")
			out = append(out, Edit{p.DexConfigMap, "dex enablePasswordDB = false, static example user removed"})
		}
		b, err := yaml.Marshal(cfg)
		if err != nil {
			return err
		}
		data["config.yaml"] = string(b)
		return nil
	})
	return out, err
}

// setKey sets KEY=value in a params.env, or key = "value" in an oauth2_proxy.cfg.
func setKey(t *Tree, rel, key, value string) error {
	file := t.Path(rel)
	b, err := t.FS.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s: %w (is --version right for these manifests?)", rel, err)
	}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `\s*=.*$`)
	if !re.Match(b) {
		return fmt.Errorf("%s: no %s setting found (is --version right for these manifests?)", rel, key)
	}
	line := key + "=" + value
	if strings.HasSuffix(rel, ".cfg") {
		line = fmt.Sprintf("%s = %q", key, value)
	}
	return t.FS.WriteFile(file, re.ReplaceAllLiteral(b, []byte(line)))
}

// removeGenerator drops the named secretGenerator from a kustomization.
func removeGenerator(t *Tree, rel, name string) error {
	return editYAML(t, rel, func(k map[string]any) error {
		gens, _ := k["secretGenerator"].([]any)
		kept := gens[:0]
		found := false
		for _, g := range gens {
			if m, _ := g.(map[string]any); m != nil && m["name"] == name {
				found = true
				continue
			}
			kept = append(kept, g)
		}
		if !found {
			return fmt.Errorf("no secretGenerator %s", name)
		}
		if len(kept) == 0 {
			delete(k, "secretGenerator")
		} else {
			k["secretGenerator"] = kept
		}
		return nil
	})
}

// editYAML reads one YAML document, lets fn change it and writes it back.
func editYAML(t *Tree, rel string, fn func(map[string]any) error) error {
	file := t.Path(rel)
	b, err := t.FS.ReadFile(file)
	if err != nil {
		return fmt.Errorf("%s: %w (is --version right for these manifests?)", rel, err)
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if err := fn(m); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if b, err = yaml.Marshal(m); err != nil {
		return err
	}
	return t.FS.WriteFile(file, b)
}

// allDocker tells whether every runtime of a NodeRuntime list is Docker.
func allDocker(runtimes string) bool {
	for _, r := range strings.Split(runtimes, ",") {
		if !strings.HasPrefix(r, "docker") {
			return false
		}
	}
	return true
}

// fillPlaceholders replaces $(key) in dir/profile-instance.yaml with dir/params.env's values.
func fillPlaceholders(t *Tree, dir string) (int, error) {
	params, err := t.FS.ReadFile(t.Path(path.Join(dir, "params.env")))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	file := t.Path(path.Join(dir, "profile-instance.yaml"))
	b, err := t.FS.ReadFile(file)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", dir, err)
	}
	text, n := string(b), 0
	for _, line := range strings.Split(string(params), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || k == "" {
			continue
		}
		n += strings.Count(text, "$("+k+")")
		text = strings.ReplaceAll(text, "$("+k+")", v)
	}
	return n, t.FS.WriteFile(file, []byte(text))
}
