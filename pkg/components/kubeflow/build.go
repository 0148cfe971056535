package kubeflow

import (
	"context"
	"io"
	"log"
	"os"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kustomize"
)

// Built is the edited, built manifests: what `kubeflow render` prints and converge applies.
type Built struct {
	Profile Profile
	// Origin says where the manifests came from.
	Origin string
	// Objects in kustomize's order. They never hold a secret value: the OIDC and GitHub client
	// secrets live in Secrets that converge creates (see Credentials).
	Objects []*unstructured.Unstructured
	// Edits lists every change made to the tree.
	Edits []Edit
	// OIDCProvider is the auth proxy's issuer edit; WaitsForTLS says the proxy cannot get Ready
	// before `tls` serves it (v1.5's authservice with an https provider).
	OIDCProvider string
	WaitsForTLS  bool
	// Owned are the build's Secrets (namespace/name) taken out for converge to generate
	// (ownBuildSecrets); ExampleUser keeps dex's example user as published.
	Owned       []string
	ExampleUser bool
	// Remote lists the remote kustomize bases the build fetched and made local (v1.11.0 and
	// later), each also reported in Edits.
	Remote []kustomize.Fetched
	// Images is the registry the run rewrites the build's images to (the spec's; never
	// cached: a build is the same whatever the registry).
	Images images.Registry
	// schemas holds the CRD schemas the Objects hold as placeholders (a build read from the
	// cache with Source.LazySchemas; see lazyschemas.go); nil when they are whole.
	schemas *schemaFile
}

// owns tells whether the build left Secret ref (namespace/name) to converge.
func (b *Built) owns(ref string) bool {
	for _, r := range b.Owned {
		if r == ref {
			return true
		}
	}
	return false
}

// Build loads the profile's manifests from src, makes the edits in memory and builds the
// kustomization in process, or takes the same build from the build cache (buildcache.go).
func Build(ctx context.Context, p Profile, src Source, e Edits) (*Built, error) {
	key, file := src.buildKey(p, e)
	if key != "" {
		if b, ok := loadBuild(file, key, p, src.LazySchemas); ok {
			return b, nil
		}
	}
	b, err := build(ctx, p, src, e)
	if err != nil {
		return nil, err
	}
	if key == "" { // the archive has just been downloaded: its digest is known now
		key, file = src.buildKey(p, e)
	}
	if key != "" {
		if err := storeBuild(file, key, b); err != nil && src.Progress != nil {
			src.Progress.Logf("warning: kubeflow: cannot write the build cache (the next run builds again): %v", err)
		}
	}
	return b, nil
}

func build(ctx context.Context, p Profile, src Source, e Edits) (*Built, error) {
	tree, err := src.Load(ctx, p)
	if err != nil {
		return nil, err
	}
	edits, err := e.apply(tree, p)
	if err != nil {
		return nil, err
	}
	remote, remoteEdits, err := src.vendor(ctx, tree, p)
	if err != nil {
		return nil, err
	}
	edits = append(edits, remoteEdits...)
	objs, err := untilDone(ctx, func() ([]*unstructured.Unstructured, error) {
		return quiet(func() ([]*unstructured.Unstructured, error) { return kustomize.BuildFS(tree.FS, tree.Path(p.Build)) })
	})
	if err != nil {
		return nil, err
	}
	edits = append(edits, AtStorageVersion(objs)...)
	objs, owned, ownEdits := ownBuildSecrets(objs, p, e)
	edits = append(edits, ownEdits...)
	waits := p.ProxyNeedsOIDC && strings.HasPrefix(e.OIDCProvider, "https://")
	return &Built{Profile: p, Origin: tree.Origin, Objects: objs, Edits: edits, OIDCProvider: e.OIDCProvider, WaitsForTLS: waits, Owned: owned, ExampleUser: e.ExampleUser, Remote: remote}, nil
}

// WriteYAML prints the objects as one multi-document YAML stream (the runbook's kubeflow.yaml).
func WriteYAML(w io.Writer, objs []*unstructured.Unstructured) error {
	return kube.EncodeManifests(w, objs)
}

// EnvValue returns the value of environment variable name in the first container of a workload
// that sets it ("" when none does).
func EnvValue(workload *unstructured.Unstructured, name string) string {
	if workload == nil {
		return ""
	}
	containers, _, _ := unstructured.NestedSlice(workload.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
		for _, e := range env {
			m, _ := e.(map[string]any)
			if m["name"] == name {
				v, _ := m["value"].(string)
				return v
			}
		}
	}
	return ""
}

// untilDone runs build, returning early with the context's error when ctx ends first: the
// kustomize API takes no context, so a Ctrl-C during the build (seconds for Kubeflow) stops the
// command at once; the abandoned build only holds memory until the process exits.
func untilDone(ctx context.Context, build func() ([]*unstructured.Unstructured, error)) ([]*unstructured.Unstructured, error) {
	type result struct {
		objs []*unstructured.Unstructured
		err  error
	}
	done := make(chan result, 1)
	go func() {
		objs, err := build()
		done <- result{objs, err}
	}()
	select {
	case r := <-done:
		return r.objs, r.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// quietMu makes builds in one process run one at a time: quiet swaps the process's stderr.
var quietMu sync.Mutex

// quiet runs a kustomize build without its notes on stderr (deprecated fields and unused vars
// in upstream's files, which users cannot act on).
func quiet(build func() ([]*unstructured.Unstructured, error)) ([]*unstructured.Unstructured, error) {
	quietMu.Lock()
	defer quietMu.Unlock()
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return build()
	}
	defer devnull.Close()
	stderr := os.Stderr
	os.Stderr = devnull
	log.SetOutput(io.Discard)
	defer func() {
		os.Stderr = stderr
		log.SetOutput(stderr)
	}()
	return build()
}

// SplitSecrets separates the build's Secrets (the manifests' own credentials, e.g. the
// pipelines object store's, and any secretGenerator of a --manifests tree) from the other
// objects, keeping each side in build order.
func SplitSecrets(objs []*unstructured.Unstructured) (rest, secrets []*unstructured.Unstructured) {
	for _, o := range objs {
		if kube.IsSecret(o) {
			secrets = append(secrets, o)
			continue
		}
		rest = append(rest, o)
	}
	return rest, secrets
}
