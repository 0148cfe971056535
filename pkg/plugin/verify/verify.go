// Package verify implements `kubectl flexigrobots verify`: run the checks of the selected
// sections over one snapshot of the cluster and report them as a table, json, yaml or junit.
package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

var formats = []string{output.Table, output.JSON, output.YAML, output.JUnit}

// Options holds the flags of `verify`.
type Options struct {
	Sections     []string
	File         string
	Output       string
	Strict       bool
	ProbeTimeout time.Duration

	registry *checks.Registry
	selected []checks.Check
	factory  *kube.Factory
	streams  genericiooptions.IOStreams
}

// NewCmdVerify builds `kubectl flexigrobots verify`.
func NewCmdVerify(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams, registry: NewRegistry()}
	cmd := &cobra.Command{
		Use:   "verify [--section cluster,...] [-o table|json|yaml|junit] [--strict]",
		Short: "Check that the cluster and the installed platform are healthy (stable check IDs)",
		Long: `Run the checks of the selected sections (all by default) over one snapshot of the cluster and
print one line per finding with its stable ID, then the fix of every finding that is not OK.

The snapshot is one LIST per resource type plus a few probes: a SelfSubjectAccessReview per
permission the plugin needs, and a throw-away CertificateSigningRequest (created, approved,
waited for up to --probe-timeout, deleted) to prove the controller-manager signs certificates.

A section that is not installed at all (no MetalLB CRDs, no provisioner, no Kubeflow workloads,
no gpu-operator) is reported as "info: not installed" with how to install it, never as an error;
with -f, a section the file declares must be installed, and its checks fail if it is not.

Exit codes: 0 all checks ok (warnings allowed), 3 a check failed, 4 warnings only with --strict,
2 invalid flags.`,
		Example: `  # Is the cluster ready for the platform?
  kubectl flexigrobots verify --section cluster

  # The sections a platform file declares (after kubectl flexigrobots apply -f plugins.yaml)
  kubectl flexigrobots verify -f plugins.yaml

  # Everything, as JUnit XML for CI; warnings fail the job
  kubectl flexigrobots verify -o junit --strict > verify.xml`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringSliceVar(&o.Sections, "section", nil, "Sections to check, comma-separated or repeated: "+strings.Join(o.registry.Sections(), ", ")+" (default all)")
	cmd.Flags().StringVarP(&o.File, "filename", "f", "", "Check only the sections this platform file (plugins.yaml) declares; a declared section that is not installed fails")
	cmd.Flags().BoolVar(&o.Strict, "strict", false, "Exit 4 when there are warnings (and no errors)")
	cmd.Flags().DurationVar(&o.ProbeTimeout, "probe-timeout", 30*time.Second, "How long a probe waits for the cluster to act (e.g. sign the test CSR)")
	cmdutil.AddOutputFlag(cmd, &o.Output, formats...)
	_ = cmd.RegisterFlagCompletionFunc("section", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return o.registry.Sections(), cobra.ShellCompDirectiveNoFileComp
	})
	return cmd
}

// Validate checks the flags without touching the cluster (exit code 2).
func (o *Options) Validate() error {
	if err := output.Validate(o.Output, formats...); err != nil {
		return err
	}
	if o.ProbeTimeout <= 0 {
		return core.UsageErrorf("--probe-timeout must be positive, e.g. --probe-timeout 30s")
	}
	var sections []string
	for _, s := range o.Sections {
		if s = strings.TrimSpace(s); s != "" {
			sections = append(sections, s)
		}
	}
	if o.File != "" {
		if len(sections) > 0 {
			return core.UsageErrorf("give either --section or -f (the file's sections), not both")
		}
		pl, err := platform.Load(o.File)
		if err != nil {
			return err
		}
		for _, b := range pl.Blocks {
			sections = append(sections, b.Name())
		}
		if len(sections) == 0 {
			return core.UsageErrorf("-f %s declares no section: add one of %s under spec", o.File, strings.Join(platform.Order(), ", "))
		}
	}
	cs, err := o.registry.ForSections(sections...)
	if err != nil {
		return core.UsageErrorf("--section: %v", err)
	}
	o.selected = cs
	return nil
}

// Run collects the snapshot, evaluates the checks, prints the report and returns the exit code
// as an ExitError with nil Err (the report already said everything).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	env, err := o.env()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	progress := output.NewProgress(o.streams.ErrOut)
	progress.Update("verify: collecting the cluster snapshot for %s ...", output.Count(len(o.selected), "check"))
	col := &checks.Collector{Env: env, Parallelism: 4}
	results := checks.Run(ctx, col, o.selected)
	if o.File == "" {
		results = checks.NotInstalledAsInfo(results)
	}
	progress.Done()
	if ctx.Err() != nil {
		return fmt.Errorf("verify: %w", ctx.Err())
	}
	if err := o.print(results); err != nil {
		return err
	}
	sum := checks.Summarize(results)
	switch {
	case sum.Error > 0:
		return &core.ExitError{Code: core.ExitFailed}
	case o.Strict && sum.Warn > 0:
		return &core.ExitError{Code: core.ExitWarnings}
	}
	return nil
}

// env builds the probe clients with the one client builder every command uses (kube.NewClients:
// the kubeconfig's credentials and --as impersonation, no client-side rate limit, so the ~80
// access reviews are not serialised).
func (o *Options) env() (checks.Env, error) {
	c, err := kube.NewClients(o.factory)
	if err != nil {
		return checks.Env{}, err
	}
	return checks.Env{Host: c.Config.Host, ProbeTimeout: o.ProbeTimeout, Client: c.Client, Dynamic: c.Dynamic, Discovery: c.Discovery}, nil
}
