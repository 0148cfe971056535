// Package releases implements `kubectl flexigrobots releases`: the upstream releases each section
// can install, and which one it picks, for the connected cluster or for a Kubernetes version given.
package releases

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/distro"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Options holds the flags of `releases`.
type Options struct {
	// Kubernetes is --kubernetes: a version to evaluate offline ("1.31", "v1.31.4").
	Kubernetes string
	Output     string

	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdReleases builds `kubectl flexigrobots releases`.
func NewCmdReleases(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams, Output: output.Table}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List the upstream releases each section can install on this cluster, and the one it picks",
		Long: `For each section (storage, lb, kubeflow, gpu): the releases the plugin offers, the Kubernetes range
upstream states or tested for each, whether its hard bounds (APIs it needs, controllers that exit on
older servers) allow this cluster, and the default a command installs when no version is given: the
newest release upstream states for the cluster's minor; where none states it, the newest that installs,
with a warning; where none installs, none (the command exits 2 naming the nearest releases).

Reads the server's version from the current context, or evaluates --kubernetes offline.`,
		Example: `  # What would each section install on the current cluster?
  kubectl flexigrobots releases

  # Offline, for a cluster you plan (RKE2 v1.33)
  kubectl flexigrobots releases --kubernetes 1.33 -o yaml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Kubernetes, "kubernetes", "", "Evaluate this Kubernetes version (e.g. 1.31) instead of the connected cluster's; nothing is read from a cluster")
	cmdutil.AddOutputFlag(cmd, &o.Output, output.Table, output.JSON, output.YAML)
	return cmd
}

// Validate checks the flags.
func (o *Options) Validate() error {
	if o.Kubernetes != "" {
		if _, err := parseMinor(o.Kubernetes); err != nil {
			return err
		}
	}
	return output.Validate(o.Output, output.Table, output.JSON, output.YAML)
}

// parseMinor reads "1.31", "v1.31" or "v1.31.4+rke2r1" into a Server.
func parseMinor(v string) (versions.Server, error) {
	s := strings.TrimPrefix(v, "v")
	parts := strings.SplitN(s, ".", 3)
	if len(parts) >= 2 {
		major, err1 := strconv.Atoi(parts[0])
		minor, err2 := strconv.Atoi(strings.TrimRight(parts[1], "+"))
		if err1 == nil && err2 == nil && major == 1 && minor > 0 {
			return versions.Server{Major: 1, Minor: minor}, nil
		}
	}
	return versions.Server{}, core.UsageErrorf("--kubernetes %q is not a Kubernetes version: give one like 1.31 or v1.31.4", v)
}

// Run prints the report.
func (o *Options) Run(ctx context.Context) error {
	var rep versions.Report
	if o.Kubernetes != "" {
		s, _ := parseMinor(o.Kubernetes)
		rep = versions.NewReport(s)
	} else {
		cs, err := o.factory.KubernetesClientSet()
		if err != nil {
			return err
		}
		s, err := versions.Read(cs.Discovery())
		if err != nil {
			return fmt.Errorf("releases: %w (give --kubernetes to evaluate a version offline)", err)
		}
		rep = versions.NewReport(s)
		rep.Distribution = string(distro.Detect(ctx, cs))
	}
	if o.Output == output.Table {
		return rep.WriteTable(o.streams.Out)
	}
	return output.Print(o.streams.Out, o.Output, rep)
}
