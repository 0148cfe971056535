package cmdutil

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// Helps of the image registry flags (pflag takes the first `quoted` word of a help as the
// value's name: --image-registry REGISTRY[/PREFIX]).
const (
	ImageRegistryHelp   = "Pull every image this section runs from this registry (`REGISTRY[/PREFIX]`, the one `kubectl flexigrobots images mirror --to` filled): image references in pod templates, in the configs that start pods at run time and in the charts are rewritten to it, tags and digests kept"
	ImagePullSecretHelp = "Name the Secret `NAME` (type kubernetes.io/dockerconfigjson) in the pod templates' imagePullSecrets (repeatable; it must exist in each namespace of the section)"
)

// AddImageRegistryFlags registers --image-registry and --image-pull-secret into r (the Spec's
// imageRegistry and imagePullSecrets; name them in errors with ImageRegistryFlag).
func AddImageRegistryFlags(cmd *cobra.Command, r *images.Registry) {
	cmd.Flags().StringVar(&r.Registry, "image-registry", "", ImageRegistryHelp)
	cmd.Flags().StringArrayVar(&r.PullSecrets, "image-pull-secret", nil, ImagePullSecretHelp)
	_ = cmd.RegisterFlagCompletionFunc("image-registry", cobra.NoFileCompletions)
	_ = cmd.RegisterFlagCompletionFunc("image-pull-secret", cobra.NoFileCompletions)
}

// ImageRegistryFlag names a field of images.Registry by its flag: imageRegistry is
// --image-registry, imagePullSecrets[1] --image-pull-secret; ok is false for another field.
func ImageRegistryFlag(field string) (flag string, ok bool) {
	name, _, _ := strings.Cut(field, "[")
	switch name {
	case "imageRegistry":
		return "--image-registry", true
	case "imagePullSecrets":
		return "--image-pull-secret", true
	}
	return "", false
}
