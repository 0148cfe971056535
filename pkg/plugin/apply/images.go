package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// ImagesOptions are `images`' flags.
type ImagesOptions struct {
	selection
	Output  string
	Timeout time.Duration

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdImages builds `kubectl flexigrobots images -f plugins.yaml`: every image the platform's
// sections would run on this cluster, and where each is named.
func NewCmdImages(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &ImagesOptions{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "images -f plugins.yaml [--only SECTION,...] [--skip SECTION,...] [-o table|wide|json|yaml|text]",
		Short: "List every container image the platform would run on this cluster, and where each is named",
		Long: `Render every section the platform file declares as apply -f would (the versions it would pick for
this cluster, the values it would send, Kubeflow's build with its edits) without changing anything,
and list each container image those objects run, with where it is named:

  pod spec   a container of a pod spec or pod template (Deployments, DaemonSets, Jobs, hooks,
             KServe's serving runtimes, Kubeflow's training runtimes)
  config     a setting a controller reads to start pods at run time: env values and flags that
             name an image (KFP's driver and launcher, Argo's executor, cert-manager's ACME
             solver), ConfigMap settings (Knative's queue-proxy, Katib's suggestions and metrics
             collectors, KServe's agent and storage initializer, the Jupyter web app's notebook
             images, KFP's per-profile frontend), istio's injected proxy
  operator   a gpu-operator component its ClusterPolicy enables (the driver's tag completed with
             each GPU node's OS, from node-feature-discovery's labels)
  plugin     a pod or Job the plugin itself starts (the storage smoke test; the artifact copy of
             a Kubeflow upgrade from minio)

References are printed as the platform names them. -o text prints one a line, for a mirroring
tool. Not listed: images that users choose at run time (their notebooks' custom images, their
pipelines' steps) and the images of a multi-hop Kubeflow upgrade's intermediate releases.

Exit codes: 0 listed, 2 invalid file or flags, 1 a section could not be rendered.`,
		Example: `  # What the platform runs, with where each image is named
  kubectl flexigrobots images -f plugins.yaml

  # One reference a line, for a mirroring tool
  kubectl flexigrobots images -f plugins.yaml -o text

  # Every place each image is named, Kubeflow only
  kubectl flexigrobots images -f plugins.yaml --only kubeflow -o wide`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := output.Validate(o.Output, images.Formats...); err != nil {
				return err
			}
			if err := o.load("give the platform file, e.g. -f plugins.yaml"); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.addFlags(cmd, "The platform file (e.g. plugins.yaml); relative paths in it are relative to it", "List", "Leave these sections out (comma-separated)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", output.Table, "Output format: table|wide|json|yaml|text")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 10*time.Minute, "Give up after this long (downloads and builds included)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(images.Formats, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(newCmdMirror(f, streams))
	return cmd
}

// Run renders the selected sections and prints their images.
func (o *ImagesOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	list, notes, progress, err := o.list(ctx)
	if err != nil {
		return err
	}
	if o.Output == output.Table || o.Output == "wide" {
		for _, n := range notes {
			progress.Logf("%s", n)
		}
	}
	return images.Print(o.streams.Out, o.Output, list, notes)
}

// list renders the selected sections in order (each checked by Prepare first) and scans what
// they would run; notes name the sections that run no workload of their own.
func (o *ImagesOptions) list(ctx context.Context) ([]images.Image, []string, *output.Progress, error) {
	r, err := newRun("images", o.factory, o.streams, core.DryRunClient, false, o.Timeout)
	if err != nil {
		return nil, nil, nil, err
	}
	// Every section is checked before any is rendered: bad input is exit 2 with nothing read.
	for _, b := range o.sections {
		if err := b.Section.Prepare(ctx, r, b.Spec); err != nil {
			return nil, nil, r.Progress, core.Wrapf(err, "%s", b.Name())
		}
	}
	var sc images.Scanner
	var notes []string
	for _, b := range o.sections {
		rd, ok := b.Section.(section.Renderer)
		if !ok {
			notes = append(notes, fmt.Sprintf("%s: runs no workload of its own", b.Name()))
			continue
		}
		// The upstream names: what `images mirror` copies (an imageRegistry in the file is
		// where the copies go, not where they come from).
		if ra, ok := b.Spec.(images.RegistryAware); ok {
			*ra.ImageRegistry() = images.Registry{}
		}
		r.Progress.Update("images: rendering %s", b.Name())
		out, err := rd.Render(ctx, r, b.Spec)
		r.Progress.Done()
		if err != nil {
			return nil, nil, r.Progress, err
		}
		sc.DriverOS = out.NodeOS
		sc.Scan(b.Name(), out.Objects, false)
		sc.Scan(b.Name(), out.Started, true)
	}
	list := sc.List.Images()
	r.Progress.Logf("images: %s from %s", output.Count(len(list), "image"), output.Count(len(o.sections), "section"))
	return list, notes, r.Progress, nil
}
