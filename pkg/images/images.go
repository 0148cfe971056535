// Package images finds every container image a platform runs in the objects its sections would
// apply: the images of pod specs and pod templates at any depth (Deployments, Jobs, KServe's
// serving runtimes, Kubeflow's training runtimes), and the images that are only named in a
// config and started at run time by a controller: env values and flags that name an image
// (KFP's driver and launcher, Argo's executor, cert-manager's ACME solver), ConfigMap settings
// (Knative's queue-proxy, Katib's suggestions and metrics collectors, KServe's agent and storage
// initializer, the notebook images the Jupyter web app offers, KFP's per-profile frontend),
// istio's injected proxy, and the gpu-operator's ClusterPolicy components. It reads objects
// only: no cluster, no registry.
package images

import (
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Origin says how an image comes to run.
type Origin string

const (
	// PodSpec: an image of a container in a pod spec or pod template of an object.
	PodSpec Origin = "pod spec"
	// Config: named in a setting (a ConfigMap, an env value, a flag, a custom resource) that a
	// controller reads to start pods at run time.
	Config Origin = "config"
	// Operator: a component of the gpu-operator's ClusterPolicy, which the operator starts.
	Operator Origin = "operator"
	// Plugin: a pod or Job the plugin itself starts (a smoke test, a data copy).
	Plugin Origin = "plugin"
)

// Source is one place an image was found.
type Source struct {
	// Section is the platform section whose objects name it.
	Section string `json:"section"`
	// Object is Kind/name or Kind/namespace/name.
	Object string `json:"object"`
	// Field is where in the object, e.g. spec.template.spec.containers[manager].image or
	// data[katib-config.yaml].runtime.suggestions[1].image.
	Field  string `json:"field"`
	Origin Origin `json:"origin"`
	// Note says what the reference alone does not (e.g. a tag completed at run time).
	Note string `json:"note,omitempty"`
}

// Image is one image reference and every place it was found.
type Image struct {
	// Ref is the reference as the platform names it (no registry added, no tag completed).
	Ref     string   `json:"image"`
	Sources []Source `json:"sources"`
}

// List collects images by reference.
type List struct {
	byRef map[string]*Image
}

// Add notes ref at s, once per place. It tells whether ref is an image reference at all
// (templates such as "{{ .Values.image }}" and shell variables are not).
func (l *List) Add(ref string, s Source) bool {
	ref = strings.TrimSpace(ref)
	if !IsReference(ref) {
		return false
	}
	if l.byRef == nil {
		l.byRef = map[string]*Image{}
	}
	im := l.byRef[ref]
	if im == nil {
		im = &Image{Ref: ref}
		l.byRef[ref] = im
	}
	if !slices.Contains(im.Sources, s) {
		im.Sources = append(im.Sources, s)
	}
	return true
}

// Images are the images found, sorted by reference, each with its sources in the order found.
func (l *List) Images() []Image {
	out := make([]Image, 0, len(l.byRef))
	for _, im := range l.byRef {
		out = append(out, *im)
	}
	slices.SortFunc(out, func(a, b Image) int { return strings.Compare(a.Ref, b.Ref) })
	return out
}

// IsReference tells whether s parses as an image reference (registry, repository, tag or
// digest), as a container runtime would read it.
func IsReference(s string) bool {
	if s == "" || strings.ContainsAny(s, " {}$\"'\n\t") {
		return false
	}
	_, err := name.ParseReference(s)
	return err == nil
}
