package images

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images/mirror"
)

// Registry is where a section's pods pull their images from: the private registry `images
// mirror` filled, and the pull secrets its pods name. It is a field group of the section blocks
// that run workloads (storage, lb, kubeflow, gpu), set by imageRegistry/imagePullSecrets in the
// platform file (the spec-wide ones are the default of every block) and by --image-registry
// and --image-pull-secret.
type Registry struct {
	// Registry is REGISTRY[/PREFIX]: every image reference is rewritten to it as `images mirror`
	// names the copies (mirror.Target.Map). Empty: the images stay as upstream names them.
	Registry string `json:"imageRegistry,omitempty"`
	// PullSecrets are Secrets of type kubernetes.io/dockerconfigjson, by name, that the
	// workloads' pod templates name in imagePullSecrets; each must exist in every namespace of
	// the section (the plugin does not create them).
	PullSecrets []string `json:"imagePullSecrets,omitempty"`
}

// RegistryAware is a section Spec that has the image registry fields.
type RegistryAware interface {
	ImageRegistry() *Registry
}

// ImageRegistry is r itself, so a Spec embedding Registry is RegistryAware.
func (r *Registry) ImageRegistry() *Registry { return r }

// Enabled tells whether images are rewritten (or pull secrets added).
func (r Registry) Enabled() bool { return r.Registry != "" || len(r.PullSecrets) > 0 }

// Validate checks the fields, each problem at its json name.
func (r Registry) Validate() core.Problems {
	var ps core.Problems
	if r.Registry != "" {
		if strings.ContainsAny(r.Registry[:1], "./~") {
			ps = append(ps, core.Problemf("imageRegistry", "%q is a path: pods pull from a registry, give REGISTRY[/PREFIX] (e.g. mirror.example:5000/ai), the one `images mirror --to` filled", r.Registry))
		} else if t, err := mirror.ParseTarget("imageRegistry", r.Registry); err != nil {
			ps = append(ps, core.Problemf("imageRegistry", "%s", strings.TrimPrefix(err.Error(), "imageRegistry ")))
		} else if t.Registry == "" {
			ps = append(ps, core.Problemf("imageRegistry", "%q is a folder or a file: pods pull from a registry, give REGISTRY[/PREFIX] (e.g. mirror.example:5000/ai), the one `images mirror --to` filled", r.Registry))
		}
	}
	for i, s := range r.PullSecrets {
		for _, msg := range validation.IsDNS1123Subdomain(s) {
			ps = append(ps, core.Problemf(fmt.Sprintf("imagePullSecrets[%d]", i), "%q is not a Secret name: %s", s, msg))
		}
	}
	return ps
}

// Key is what the registry changes in the objects, for telling whether a release was rendered
// with the same one ("" when not Enabled).
func (r Registry) Key() string {
	if !r.Enabled() {
		return ""
	}
	return r.Registry + ";" + strings.Join(r.PullSecrets, ",")
}

// target is the registry as a mirror target (valid Registry assumed; Validate said so).
func (r Registry) target() mirror.Target {
	t, _ := mirror.ParseTarget("imageRegistry", r.Registry)
	return t
}

// Within tells whether ref is pulled from the registry (its host and, with a prefix, its path).
func (r Registry) Within(ref string) bool {
	t := r.target()
	p, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil || t.Registry == "" {
		return false
	}
	if p.Context().RegistryStr() != t.Registry {
		return false
	}
	return t.Prefix == "" || strings.HasPrefix(p.Context().RepositoryStr()+"/", t.Prefix+"/")
}

// MapRef is ref's name in the registry, as `images mirror` copied it: the tag or digest kept,
// an untagged reference (a repository whose tag is set elsewhere, e.g. KFP's X_IMAGE with X_TAG)
// left untagged. A reference already in the registry is returned as it is.
func (r Registry) MapRef(ref string) (string, error) {
	if r.Registry == "" || r.Within(ref) {
		return ref, nil
	}
	t := r.target()
	if !tagged(ref) {
		repo, err := name.NewRepository(ref, name.WeakValidation)
		if err != nil {
			return "", err
		}
		path := repo.RepositoryStr()
		if t.Prefix != "" {
			path = t.Prefix + "/" + path
		}
		return t.Registry + "/" + path, nil
	}
	src, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	m, err := t.Map(src)
	if err != nil {
		return "", err
	}
	return m.String(), nil
}
