// Package export implements `kubectl flexigrobots export`: what a new cluster needs from this one
// to give the users back their Kubeflow profiles (the way off the runbook's v1.5.0, which cannot
// be upgraded in place).
package export

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// Options holds the flags of `export`.
type Options struct {
	Output  string
	Timeout time.Duration
	// Platform writes the platform file instead (section.PlatformRecord).
	Platform bool

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdExport builds `kubectl flexigrobots export`.
func NewCmdExport(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "export [--platform] [-o yaml|json] > users.yaml",
		Short: "Write the users' Kubeflow profiles, contributors and PodDefaults, to re-create them on a new cluster",
		Long: `Read what a new cluster needs from this one to give the users back their Kubeflow profiles, and
write it as manifests to apply there once the platform runs (kubectl flexigrobots apply -f
plugins.yaml): every Profile (owner, quota, plugins), each contributor Kubeflow's access management
added to a profile's namespace (its RoleBinding and AuthorizationPolicy, user and role annotated),
and the PodDefaults users made there. Left out, because the new platform makes them: Kubeflow's own
objects (the example Profile), the owner's binding (the profile controller's) and the PodDefaults of
"profile poddefault". Server-set fields (uid, resourceVersion, status, managed fields) are dropped.

It is the way off the runbook's Kubeflow v1.5.0 on Kubernetes 1.21, which no release upgrades in
place. The data (the pipelines' MySQL and object store, notebook volumes) is not in it: copy it with
your storage's tools. Nothing on the cluster changes.

With --platform it writes the platform file instead: each section's block as its last finished
apply (section command or apply -f) ran it, recorded in ConfigMap kube-system/flexigrobots-platform
as helm keeps a release's values. Files are named by the paths they had where that apply ran; no
secret is in it (a block names its files). A section never applied by the plugin is not in it.`,
		Example: `  # On the old cluster
  kubectl flexigrobots export > users.yaml

  # On the new one, once the platform is applied
  kubectl flexigrobots apply -f plugins.yaml
  kubectl apply -f users.yaml

  # The platform file of this cluster, to apply elsewhere or to take over with apply -f
  kubectl flexigrobots export --platform > plugins.yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.Validate(o.Output, output.YAML, output.JSON); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmdutil.AddOutputFlag(cmd, &o.Output, output.YAML, output.JSON)
	cmd.Flags().DurationVar(&o.Timeout, "timeout", time.Minute, "Give up after this long")
	cmd.Flags().BoolVar(&o.Platform, "platform", false, "Write the platform file the sections' last applies ran with (for apply -f) instead of the users' profiles")
	return cmd
}

// Run reads the export, writes it to stdout and says on stderr what it holds.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.Platform {
		return o.platformFile(ctx, c)
	}
	ex, err := profile.ExportUsers(ctx, c)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if o.Output == output.JSON {
		list := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "List"}}
		for _, x := range ex.Objects {
			list.Items = append(list.Items, *x)
		}
		data, err := list.MarshalJSON()
		if err != nil {
			return err
		}
		if _, err := o.streams.Out.Write(append(data, '\n')); err != nil {
			return err
		}
	} else if err := kube.EncodeManifests(o.streams.Out, ex.Objects); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.ErrOut, "export: %s, %s (each a RoleBinding and an AuthorizationPolicy), %s; apply them on the new cluster once `kubectl flexigrobots apply -f` has run there\n",
		output.Count(ex.Profiles, "Profile"), output.Count(ex.Contributors, "contributor"), output.Count(ex.PodDefaults, "PodDefault"))
	return nil
}
