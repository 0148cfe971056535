// Package lb implements `kubectl flexigrobots lb`: the runbook section "Installing MetalLB".
package lb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	complb "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Options are the flags of `lb`: the section's Spec (bound flag by flag) and the mutating flags.
type Options struct {
	Spec     complb.Spec
	Mutating cmdutil.MutatingFlags
	// prune is --prune, the negation of Spec.NoPrune (the file always prunes).
	prune bool

	run     *section.Run
	factory *kube.Factory
	streams genericiooptions.IOStreams
}

// NewCmdLB builds `kubectl flexigrobots lb`.
func NewCmdLB(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := newCmdLB(&Options{factory: f, streams: streams})
	cmd.AddCommand(newCmdUninstall(f, streams))
	return cmd
}

// newCmdLB is `lb` with its flags bound into o.
func newCmdLB(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lb --addresses CIDR|FIRST-LAST[,...]",
		Short: "Install MetalLB and its IPAddressPool + L2Advertisement (runbook: Installing MetalLB)",
		Long: `Install or upgrade the MetalLB chart, wait for its controller and speaker, then apply the
IPAddressPool and the L2Advertisement (metallb.io/v1beta1), retrying while MetalLB's validating
webhook cannot be called yet (its Service metallb-webhook-service without ready endpoints) until
--timeout. Run it again and it says "unchanged"; change --addresses and only the pool is updated.

Each --addresses entry is a CIDR (203.0.113.10/32) or an inclusive range
(198.51.100.10-198.51.100.20); entries must not overlap. A warning is printed when an entry holds
a node's address or overlaps the service CIDR (read from ServiceCIDR objects where served, else
give --service-cidr).

If kube-proxy runs in IPVS mode (ConfigMap kube-system/kube-proxy), MetalLB needs
ipvs.strictARP: true: lb warns and says how, --fix-strict-arp sets it.

--probe creates a temporary LoadBalancer Service, waits for an external IP from the pool, prints
it and deletes the Service (also on failure or Ctrl-C). Without --addresses it only probes. A dry
run skips it (the report says so).`,
		Example: `  # The runbook: the cluster's public IP as the pool, Layer 2 mode
  kubectl flexigrobots lb --addresses 203.0.113.10/32

  # A range and a CIDR, then prove a LoadBalancer Service gets an IP
  kubectl flexigrobots lb --addresses 198.51.100.10-198.51.100.20,203.0.113.16/28 --probe

  # What would change, from an air-gapped mirror
  kubectl flexigrobots lb --addresses 203.0.113.10/32 --chart-repo https://charts.example.internal/metallb --dry-run=server

  # MetalLB's images pulled from the mirror "images mirror --to" filled
  kubectl flexigrobots lb --addresses 203.0.113.10/32 --image-registry mirror.example:5000/ai`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.Complete(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Spec.Addresses, "addresses", nil, "Addresses MetalLB may hand out: CIDRs or FIRST-LAST ranges, comma-separated or repeated")
	fl.StringVar(&o.Spec.Pool, "pool", complb.DefaultPool, "Name of the IPAddressPool")
	fl.StringVar(&o.Spec.L2Advertisement, "l2-advertisement", complb.DefaultL2, "Name of the L2Advertisement (advertises the pool)")
	fl.StringVar(&o.Spec.ReleaseNamespace, "release-namespace", complb.DefaultNamespace, "Namespace of the MetalLB release, the pool and the L2Advertisement (created if missing)")
	fl.StringVar(&o.Spec.ReleaseName, "release-name", complb.DefaultRelease, "Helm release name (an existing MetalLB release under another name is upgraded instead)")
	fl.StringSliceVar(&o.Spec.ServiceCIDRs, "service-cidr", nil, "The cluster's service CIDR(s), to warn when --addresses overlaps them (read from ServiceCIDR objects when the cluster serves them)")
	fl.BoolVar(&o.Spec.FixStrictARP, "fix-strict-arp", false, "If kube-proxy runs in IPVS mode, set ipvs.strictARP: true in ConfigMap kube-system/kube-proxy (kube-proxy pods must then restart)")
	fl.BoolVar(&o.prune, "prune", true, "Delete the pool and L2Advertisement an earlier run applied under other names (--prune=false keeps them)")
	fl.Lookup("prune").NoOptDefVal = "true"
	fl.BoolVar(&o.Spec.Probe, "probe", false, "After converging (or alone, without --addresses), prove a temporary LoadBalancer Service gets an IP from the pool, then delete it")
	cmdutil.AddMutatingFlags(cmd, &o.Mutating, 5*time.Minute)
	cmdutil.AddForceConflictsFlag(cmd, &o.Mutating)
	cmdutil.AddChartFlags(cmd, &o.Spec.Chart, complb.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(complb.ChartName))
	cmdutil.AddImageRegistryFlags(cmd, &o.Spec.Registry)
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to install or upgrade to (default: the release the version matrix picks for the server's Kubernetes version; see `kubectl flexigrobots releases`)"
	return cmd
}

// Validate checks every flag without touching the cluster (exit code 2 on bad input): the
// mutating flags, then the Spec's rules and its chart files, every problem named by its flag.
// --probe alone needs no --addresses (it probes the pool already there); with --diff it is
// skipped.
func (o *Options) Validate() error {
	o.Spec.NoPrune = !o.prune
	diff := o.Mutating.Diff
	if err := o.Mutating.Validate(); err != nil {
		return err
	}
	if o.Spec.Probe && diff {
		// The probe proves the pool works; it changes nothing a diff would show.
		fmt.Fprintln(o.streams.ErrOut, "lb: --probe skipped: --diff changes nothing")
		o.Spec.Probe = false
	}
	// The flags' defaults are the Spec's (the same constants): no Default here, so that a value
	// given empty (--pool "") is refused as before rather than defaulted.
	ps := append(o.Spec.Validate(), o.Spec.Load()...)
	if o.Spec.Probe && len(o.Spec.Addresses) == 0 {
		ps = slices.DeleteFunc(ps, func(p core.Problem) bool { return p.Field == "addresses" }) // probe only
	}
	return ps.UsageError(flagOf)
}

// Complete builds the run from the root's kubeconfig flags and the mutating flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("lb: %w", err)
	}
	progress := output.NewProgress(o.streams.ErrOut)
	o.run = &section.Run{
		Clients: clients, Helm: helm.NewClientFor(o.factory, progress), Progress: progress,
		DryRun: o.Mutating.DryRun, Wait: o.Mutating.Wait, Timeout: o.Mutating.Timeout, ForceConflicts: o.Mutating.ForceConflicts,
	}
	return nil
}

// Run runs the section (a chart version given that cannot install here refused first, then:
// pick the chart, converge when --addresses is given, probe with --probe, post-conditions) and
// prints the report, also what was done before an error.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := complb.Section.Prepare(ctx, o.run, &o.Spec); err != nil {
		return rendered(err)
	}
	rep, err := section.Apply(ctx, complb.Section, o.run, &o.Spec)
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Mutating.Output, rep, err)
}
