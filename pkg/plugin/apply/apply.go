// Package apply implements `kubectl flexigrobots apply -f plugins.yaml`: the whole platform from
// one file, each section as soon as the ones it needs are done, through the same components as
// their commands.
package apply

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

// Options holds the flags of `apply`.
type Options struct {
	cmdutil.MutatingFlags
	selection
	PrintExample bool
	PrintSchema  bool
	ForceApply   bool

	run     *section.Run
	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdApply builds `kubectl flexigrobots apply`.
func NewCmdApply(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
	cmd := &cobra.Command{
		Use:   "apply -f plugins.yaml [--only SECTION,...] [--skip SECTION,...]",
		Short: "Build the whole platform from one file (plugins.yaml), section by section",
		Long: `Read a platform file (kind Platform, flexigrobots.io/v1alpha1; see --print-example and
--print-schema) and run each section it declares through the same code as the section's own
command. A section starts as soon as the sections it needs are done: storage, lb and gpu at
once; kubeflow after storage and lb (its download and build run meanwhile); tls and profiles
after kubeflow.

Before anything changes, the whole file is validated (the JSON Schema, the sections' own rules,
the files it refers to) and every problem is reported with its line and column (exit 2), and
versions given that cannot work on the cluster are refused (exit 2). Versions left out are
picked to fit the cluster's Kubernetes version, and each section says which on stderr.

Progress goes to stderr, a summary (section, result, changed objects, time) to stdout. A failed
section stops the sections that need it (kubeflow needs storage and lb; tls and profiles need
kubeflow); the others go on, and the summary says which were skipped and why. --timeout bounds
each section. Run it again and every section is "unchanged".

On a platform built by hand from the runbook (helm, kubectl apply/create/patch), each section
takes over what it finds: helm releases of any name are upgraded in place, and objects kubectl
made join the section's set where their values agree with the file. An object whose values
differ stops its section before the section changes anything, naming the fields and the tool
that set them; --force-conflicts takes them over with the file's values. What the hand-built
platform left that a section no longer uses (the runbook's time-slicing ConfigMap) is named in a
note and kept; --prune-adopted deletes it.

Exit codes: 0 every section applied, 1 a section failed or was skipped, 2 invalid file or flags,
or every failed section refused its input and no section changed anything.`,
		Example: `  # The documented example, then edit it
  kubectl flexigrobots apply --print-example > plugins.yaml

  # The whole platform, then again (every section unchanged)
  kubectl flexigrobots apply -f plugins.yaml

  # Only the load balancer and Kubeflow, as a server-side dry run
  kubectl flexigrobots apply -f plugins.yaml --only lb,kubeflow --dry-run=server

  # Take over a platform built by hand, the file's values winning where they differ
  kubectl flexigrobots apply -f plugins.yaml --force-conflicts`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.PrintExample || o.PrintSchema {
				return o.print()
			}
			return o.validateCompleteRun(cmd, nil)
		},
	}
	o.addFlags(cmd, "The platform file (e.g. plugins.yaml); relative paths in it are relative to it", "Run", "Leave these sections out (comma-separated)")
	cmd.Flags().BoolVar(&o.PrintExample, "print-example", false, "Print the commented example platform file and exit")
	cmd.Flags().BoolVar(&o.PrintSchema, "print-schema", false, "Print the platform file's JSON Schema and exit")
	cmd.Flags().BoolVar(&o.ForceApply, "force-apply", false, "Send every object of the kubeflow section as a server-side apply, even those the last run's apply record says are unchanged, and record them anew")
	cmdutil.AddMutatingFlags(cmd, &o.MutatingFlags, 30*time.Minute)
	cmdutil.AddForceConflictsFlag(cmd, &o.MutatingFlags)
	cmdutil.AddPruneAdoptedFlag(cmd, &o.MutatingFlags)
	cmd.Flags().Lookup("timeout").Usage = "Give up on a section after this long (each section's budget, its phases sharing it); what was applied stays and a re-run continues"
	return cmd
}

// validateCompleteRun is the command's run: Validate (the file, no cluster), Complete (clients,
// server version), Run.
func (o *Options) validateCompleteRun(cmd *cobra.Command, _ []string) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if err := o.Complete(); err != nil {
		return err
	}
	return o.Run(cmd.Context())
}

func (o *Options) print() error {
	data := schema.Example
	if o.PrintSchema {
		data = schema.Platform
	}
	_, err := o.streams.Out.Write(data)
	return err
}

// Validate checks the flags and the whole file without touching the cluster (exit code 2).
func (o *Options) Validate() error {
	if err := o.MutatingFlags.Validate(); err != nil {
		return err
	}
	return o.load("give the platform file, e.g. -f plugins.yaml (kubectl flexigrobots apply --print-example writes one)")
}

// Complete builds the clients from the root's kubeconfig flags and reads the server's version.
func (o *Options) Complete() error {
	r, err := newRun("apply", o.factory, o.streams, o.DryRun, o.Wait, o.Timeout)
	if err != nil {
		return err
	}
	r.ForceApply = o.ForceApply
	r.ForceConflicts = o.ForceConflicts
	r.PruneAdopted = o.PruneAdopted
	o.run = r
	return nil
}

// newRun is what every section of one run shares: the clients of the root's kubeconfig flags,
// helm on the same flags, progress on stderr, the server's version and the run's settings
// (--timeout is each section's budget).
func newRun(verb string, f *kube.Factory, streams genericiooptions.IOStreams, dryRun core.DryRunStrategy, wait bool, timeout time.Duration) (*section.Run, error) {
	clients, err := kube.NewClients(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	server, err := versions.Read(clients.Discovery)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verb, err)
	}
	progress := output.NewProgress(streams.ErrOut)
	return &section.Run{Clients: clients, Helm: helm.NewClientFor(f, progress), Progress: progress,
		DryRun: dryRun, Wait: wait, Timeout: timeout, Server: server}, nil
}

// Run applies the sections and prints the summary (also after a failure).
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	o.run.Progress.Logf("apply: platform %s from %s on %s: %s", o.platform.Metadata.Name, o.File, o.run.Server, output.Count(len(o.sections), "section"))
	o.sayNotInFile(ctx)
	sum, err := platform.Run(ctx, o.platform, o.sections, o.run)
	if core.IsUsageError(err) && (sum == nil || len(sum.Sections) == 0) {
		return err // refused before any section ran: nothing to summarise
	}
	if perr := platform.PrintSummary(o.streams.Out, o.streams.ErrOut, o.Output, sum); perr != nil && err == nil {
		err = perr
	}
	return err
}

// sayNotInFile names, one line each, the sections an earlier apply installed that the file no
// longer declares: left as they are, and how to take them down.
func (o *Options) sayNotInFile(ctx context.Context) {
	names, err := platform.NotInFile(ctx, o.run.Clients, o.platform, o.Only)
	if err != nil {
		o.run.Progress.Logf("warning: cannot tell which sections applied before are not in %s: %v", o.File, err)
	}
	for _, name := range names {
		command := name
		if name == "profiles" {
			command = "profile" // its command's name
		}
		o.run.Progress.Logf("%s: not in %s, installed by an earlier apply: left as it is (`kubectl flexigrobots %s uninstall` takes it down)", name, o.File, command)
	}
}
