// Package lb implements `kubectl flexigrobots lb`: the runbook section "Installing MetalLB".
package lb

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	complb "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// Options holds the flags of `lb`.
type Options struct {
	Addresses        []string
	Pool             string
	L2Advertisement  string
	ReleaseNamespace string
	ReleaseName      string
	ServiceCIDRs     []string
	FixStrictARP     bool
	Prune            bool
	Probe            bool
	Mutating         cmdutil.MutatingFlags
	Chart            core.ChartSource

	ranges       []complb.Range
	serviceCIDRs []netip.Prefix
	installer    *complb.Installer
	factory      *kube.Factory
	streams      genericiooptions.IOStreams
}

// NewCmdLB builds `kubectl flexigrobots lb`.
func NewCmdLB(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
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
it and deletes the Service (also on failure or Ctrl-C). Without --addresses it only probes.`,
		Example: `  # The runbook: the cluster's public IP as the pool, Layer 2 mode
  kubectl flexigrobots lb --addresses 203.0.113.10/32

  # A range and a CIDR, then prove a LoadBalancer Service gets an IP
  kubectl flexigrobots lb --addresses 198.51.100.10-198.51.100.20,203.0.113.16/28 --probe

  # What would change, from an air-gapped mirror
  kubectl flexigrobots lb --addresses 203.0.113.10/32 --chart-repo https://charts.example.internal/metallb --dry-run=server`,
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
	cmd.Flags().StringSliceVar(&o.Addresses, "addresses", nil, "Addresses MetalLB may hand out: CIDRs or FIRST-LAST ranges, comma-separated or repeated")
	cmd.Flags().StringVar(&o.Pool, "pool", complb.DefaultPool, "Name of the IPAddressPool")
	cmd.Flags().StringVar(&o.L2Advertisement, "l2-advertisement", complb.DefaultL2, "Name of the L2Advertisement (advertises the pool)")
	cmd.Flags().StringVar(&o.ReleaseNamespace, "release-namespace", complb.DefaultNamespace, "Namespace of the MetalLB release, the pool and the L2Advertisement (created if missing)")
	cmd.Flags().StringVar(&o.ReleaseName, "release-name", complb.DefaultRelease, "Helm release name (an existing MetalLB release under another name is upgraded instead)")
	cmd.Flags().StringSliceVar(&o.ServiceCIDRs, "service-cidr", nil, "The cluster's service CIDR(s), to warn when --addresses overlaps them (read from ServiceCIDR objects when the cluster serves them)")
	cmd.Flags().BoolVar(&o.FixStrictARP, "fix-strict-arp", false, "If kube-proxy runs in IPVS mode, set ipvs.strictARP: true in ConfigMap kube-system/kube-proxy (kube-proxy pods must then restart)")
	cmd.Flags().BoolVar(&o.Prune, "prune", true, "Delete the pool and L2Advertisement an earlier run applied under other names (--prune=false keeps them)")
	cmd.Flags().BoolVar(&o.Probe, "probe", false, "After converging (or alone, without --addresses), prove a temporary LoadBalancer Service gets an IP from the pool, then delete it")
	cmdutil.AddMutatingFlags(cmd, &o.Mutating, 5*time.Minute)
	cmdutil.AddChartFlags(cmd, &o.Chart, complb.DefaultChartRepo, "")
	cmdutil.CompleteChartVersions(cmd, helm.VersionLister(complb.ChartName))
	cmd.Flags().Lookup("chart-version").Usage = "Chart version to install or upgrade to (default: " + complb.DefaultChartVersion + " on Kubernetes >= 1.25, " + complb.ChartRule.LastWithout + ", the last chart without CEL rules, below)"
	cmd.AddCommand(newCmdUninstall(f, streams))
	return cmd
}

// Validate checks every flag without touching the cluster (exit code 2 on bad input).
func (o *Options) Validate() error {
	diff := o.Mutating.Diff
	if err := o.Mutating.Validate(); err != nil {
		return err
	}
	if err := cmdutil.ValidateChart(&o.Chart); err != nil {
		return err
	}
	if o.Probe && diff {
		// The probe proves the pool works; it changes nothing a diff would show.
		fmt.Fprintln(o.streams.ErrOut, "lb: --probe skipped: --diff changes nothing")
		o.Probe = false
	}
	if o.Probe && o.Mutating.IsDryRun() {
		return core.UsageErrorf("--probe creates a Service: it cannot run with --dry-run")
	}
	if !o.Probe || len(o.Addresses) > 0 {
		r, err := complb.ParseAddresses(o.Addresses)
		if err != nil {
			return err
		}
		o.ranges = r
	}
	for flag, v := range map[string]string{"--pool": o.Pool, "--l2-advertisement": o.L2Advertisement, "--release-name": o.ReleaseName} {
		if errs := validation.IsDNS1123Subdomain(v); len(errs) > 0 {
			return core.UsageErrorf("%s %q is not a valid object name: %s", flag, v, errs[0])
		}
	}
	if errs := validation.IsDNS1123Label(o.ReleaseNamespace); len(errs) > 0 {
		return core.UsageErrorf("--release-namespace %q is not a valid namespace name: %s", o.ReleaseNamespace, errs[0])
	}
	o.serviceCIDRs = nil
	for _, s := range o.ServiceCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return core.UsageErrorf("--service-cidr %q is not a CIDR (%s): give the kube-apiserver's --service-cluster-ip-range (on RKE services.kube-api.service_cluster_ip_range)", s, core.PrefixProblem(err))
		}
		o.serviceCIDRs = append(o.serviceCIDRs, p)
	}
	return nil
}

// Complete builds the clients from the root's kubeconfig flags.
func (o *Options) Complete() error {
	clients, err := kube.NewClients(o.factory)
	if err != nil {
		return fmt.Errorf("lb: %w", err)
	}
	progress := output.NewProgress(o.streams.ErrOut)
	o.installer = &complb.Installer{Clients: clients, Helm: helm.NewClientFor(o.factory, progress), Progress: progress}
	return nil
}

// Run runs the section (pick the chart, converge when --addresses is given, probe with --probe)
// and prints the report, also what was done before an error.
func (o *Options) Run(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	rep, err := o.installer.Apply(ctx, complb.Spec{
		Config: complb.Config{
			Namespace: o.ReleaseNamespace, ReleaseName: o.ReleaseName, Pool: o.Pool, L2Advertisement: o.L2Advertisement,
			Addresses: o.ranges, Chart: o.Chart, DryRun: o.Mutating.DryRun, Wait: o.Mutating.Wait,
			Timeout: o.Mutating.Timeout, FixStrictARP: o.FixStrictARP, Prune: o.Prune,
		},
		ServiceCIDRs: o.serviceCIDRs, Probe: o.Probe,
	})
	return output.PrintReportAfter(o.streams.Out, o.streams.ErrOut, o.Mutating.Output, rep, err)
}
