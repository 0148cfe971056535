// Package profile implements `kubectl flexigrobots profile poddefault`: the runbook section
// "Enabling access to Kubeflow Pipelines" (the PodDefault access-ml-pipeline per profile
// namespace). The work is in pkg/components/profile.
package profile

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	compprofile "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// NewCmdProfile builds `kubectl flexigrobots profile`, the parent of the per-profile commands.
func NewCmdProfile(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Per-profile setup of Kubeflow user namespaces (runbook: Enabling access to Kubeflow Pipelines)",
		Args:  cmdutil.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(NewCmdPodDefault(f, streams), newCmdUninstall(f, streams))
	return cmd
}

// PodDefaultOptions holds the flags of `profile poddefault`: NAMESPACE..., --all-profiles and
// --remove bound straight into the section's Spec, --watch beside it (a long-running mode, no
// block of the file).
type PodDefaultOptions struct {
	Spec     compprofile.Spec
	Watch    bool
	Mutating cmdutil.MutatingFlags

	clients  *kube.Clients
	progress *output.Progress
	factory  *kube.Factory
	streams  genericiooptions.IOStreams
}

// NewCmdPodDefault builds `kubectl flexigrobots profile poddefault`.
func NewCmdPodDefault(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	return newCmdPodDefault(&PodDefaultOptions{factory: f, streams: streams})
}

// newCmdPodDefault is the command with its flags bound into o.
func newCmdPodDefault(o *PodDefaultOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "poddefault (NAMESPACE... | --all-profiles) [--watch] [--remove]",
		Short: "Give profile namespaces the PodDefault access-ml-pipeline (Kubeflow Pipelines from notebooks)",
		Long: `Create or update the runbook's PodDefault access-ml-pipeline (kubeflow.org/v1alpha1, the object of
deployment/040-pod_default_multiuser.yaml field for field) in each given profile namespace, or with
--all-profiles in the namespace of every Profile. Notebooks labelled access-ml-pipeline: "true" then
get a pipelines.kubeflow.org service-account token and KF_PIPELINES_SA_TOKEN_PATH from Kubeflow's
admission webhook. One line per namespace: created, configured or unchanged; a re-run changes nothing.

--all-profiles reads one LIST each of Profiles, namespaces and PodDefaults (no request per
namespace to find them); only PodDefaults that are missing or differ are sent, so a re-run writes
nothing. Profiles whose namespace does not exist yet are skipped with a note. A PodDefault access-ml-pipeline that someone else made (without
the label app.kubernetes.io/managed-by=kubectl-flexigrobots) is left as it is and said so.
Namespaces without the label app.kubernetes.io/part-of=kubeflow-profile get the PodDefault and a
warning: the webhook does not apply PodDefaults there.

--watch (with --all-profiles) first covers every existing profile namespace, then stays running and
covers each namespace that appears for a Profile later (users who sign up through the registration
flow), watching with client-go informers, not polling; it resumes by itself after a lost
connection or an API server restart and exits 0 on Ctrl-C or SIGTERM. It is a client process: keep
it running where your kubeconfig is, e.g. in tmux or as a systemd service on an admin host (see the
README); nothing is installed in the cluster to run it. --timeout bounds each apply pass.

--remove deletes the PodDefaults this command made (label app.kubernetes.io/managed-by=
kubectl-flexigrobots and applied by field manager kubectl-flexigrobots); others are left.

Invalid input exits 2 before anything changes: a namespace that does not exist or that no Profile
owns (naming its owner annotation, if any), NAMESPACE with --all-profiles, neither, or a cluster
without Kubeflow's Profile and PodDefault kinds.`,
		Example: `  # The runbook's create_PodDefault.sh, for two users
  kubectl flexigrobots profile poddefault kubeflow-user-example-com alice

  # Every profile namespace, then keep covering users as they sign up (Ctrl-C stops)
  kubectl flexigrobots profile poddefault --all-profiles --watch

  # What would change, checked by the API server
  kubectl flexigrobots profile poddefault --all-profiles --dry-run=server -o yaml

  # Take the PodDefaults out again
  kubectl flexigrobots profile poddefault --all-profiles --remove`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Spec.Namespaces = args
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&o.Spec.AllProfiles, "all-profiles", false, "Every namespace owned by a Profile (instead of NAMESPACE arguments)")
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "With --all-profiles: stay running and cover profile namespaces as they appear (until Ctrl-C or SIGTERM)")
	cmd.Flags().BoolVar(&o.Spec.Remove, "remove", false, "Delete the PodDefaults this command made instead of applying them")
	cmdutil.AddMutatingFlags(cmd, &o.Mutating, compprofile.DefaultTimeout)
	cmd.Flags().Lookup("wait").Usage = fmt.Sprintf("With --all-profiles: give Profiles whose namespace does not exist yet up to %s to get it from Kubeflow's profile controller", compprofile.NamespaceGrace)
	return cmd
}

// Validate checks the arguments and flags without touching the cluster (exit code 2): the
// mutating flags, the Spec's rules, and what --watch cannot go with.
func (o *PodDefaultOptions) Validate() error {
	if err := o.Mutating.Validate(); err != nil {
		return err
	}
	o.Spec.Default()
	ps := o.Spec.Validate()
	if len(ps) == 0 && o.Watch {
		switch {
		case !o.Spec.AllProfiles:
			ps = append(ps, core.Problemf("", "--watch covers every Profile as it appears: use it with {allProfiles} instead of {namespaces}"))
		case o.Spec.Remove:
			ps = append(ps, core.Problemf("", "--watch and --remove cannot be combined: --remove deletes once"))
		case o.Mutating.DryRun.Active():
			ps = append(ps, core.Problemf("", "--watch cannot run with --dry-run: try {allProfiles} --dry-run first"))
		}
	}
	return ps.UsageError(flagOf)
}

// flagOf names a field of the profiles block as the command's arguments and flags do.
func flagOf(field string) string {
	switch field {
	case "allProfiles":
		return "--all-profiles"
	case "namespaces":
		return "NAMESPACE arguments"
	}
	var i int
	if _, err := fmt.Sscanf(field, "namespaces[%d]", &i); err == nil {
		return fmt.Sprintf("NAMESPACE argument %d", i+1)
	}
	return field
}

// Complete builds the clients from the root's kubeconfig flags.
func (o *PodDefaultOptions) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	o.clients, o.progress = clients, output.NewProgress(o.streams.ErrOut)
	return nil
}

// Run resolves the targets (exit code 2 on a bad one, nothing changed), then applies, removes or
// watches, and prints the results.
func (o *PodDefaultOptions) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.Watch {
		if err := compprofile.CheckInstalled(o.clients); err != nil {
			return err
		}
		in := &compprofile.Installer{Clients: o.clients, Progress: o.progress, DryRun: o.Mutating.DryRun, Wait: o.Mutating.Wait && !o.Mutating.DryRun.Active()}
		w := &compprofile.Watcher{Installer: in, Timeout: o.Mutating.Timeout, Report: o.printer()}
		return w.Run(ctx)
	}
	run := &section.Run{Clients: o.clients, Progress: o.progress, DryRun: o.Mutating.DryRun, Wait: o.Mutating.Wait, Timeout: o.Mutating.Timeout}
	rep, err := section.Apply(ctx, compprofile.Section, run, &o.Spec)
	if core.IsUsageError(err) {
		return err // nothing was done
	}
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Mutating.Output, rep, err)
}

// printer prints each pass of --watch: kubectl-style lines, or one json document per pass, or
// yaml documents separated by ---.
func (o *PodDefaultOptions) printer() func(*output.Report) error {
	return func(rep *output.Report) error {
		if o.Mutating.Output == output.YAML {
			if _, err := io.WriteString(o.streams.Out, "---\n"); err != nil {
				return err
			}
		}
		return output.PrintReport(o.streams.Out, o.streams.ErrOut, o.Mutating.Output, rep)
	}
}
