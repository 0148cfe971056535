// Package plugin holds the cobra commands of kubectl flexigrobots: one package per subcommand,
// each following kubectl's Options pattern (Complete, Validate, Run). No business logic lives here.
package plugin

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/apply"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/completion"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/export"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/rbac"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/releases"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/version"
)

// Command group IDs shown in `kubectl flexigrobots --help`.
const (
	GroupSections = "sections"
	GroupPlatform = "platform"
	GroupOther    = "other"
)

// NewRootCmd builds `kubectl flexigrobots` with kubectl's kubeconfig flags (--kubeconfig,
// --context, --as, --request-timeout, ...; not -n) shared by every subcommand through one factory.
func NewRootCmd(streams genericiooptions.IOStreams) *cobra.Command {
	configFlags := genericclioptions.NewConfigFlags(true).WithDiscoveryBurst(300).WithDiscoveryQPS(50)
	// No -n/--namespace: no command would read it (each names its namespaces: --release-namespace,
	// profile poddefault NAMESPACE...), and a flag that is silently ignored misleads. Given anyway,
	// it is a usage error that says so (cmdutil.FlagError).
	configFlags.Namespace = nil
	f := kube.NewFactory(configFlags)

	root := &cobra.Command{
		Use:   "flexigrobots",
		Short: "Build the FlexiGroBots AI platform (Kubeflow, NFS, MetalLB, TLS, GPUs) on a Kubernetes cluster",
		Long: `kubectl flexigrobots turns each section of the FlexiGroBots platform runbook into one idempotent
command: run it again and it reports "unchanged". Every command reads your kubeconfig like kubectl
does (--kubeconfig, --context, --as ...), so it works from any shell and from scripted runbooks.
Each command names the namespaces it uses (e.g. --release-namespace): there is no -n.`,
		Example: `  # Which plugin and which cluster?
  kubectl flexigrobots version

  # Against another context of your kubeconfig
  kubectl flexigrobots --context staging version -o json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl flexigrobots",
		},
	}
	// Usage errors are exit 2 with a pointer to --help, like every invalid input.
	root.SetFlagErrorFunc(cmdutil.FlagError)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	configFlags.AddFlags(root.PersistentFlags())
	addVerbosityFlag(root, streams.ErrOut)

	groups := map[string]string{
		GroupSections: "Platform sections (one runbook section each):",
		GroupPlatform: "Whole platform:",
		GroupOther:    "Other commands:",
	}
	add := func(group string, cmds ...*cobra.Command) {
		if !root.ContainsGroup(group) {
			root.AddGroup(&cobra.Group{ID: group, Title: groups[group]})
		}
		for _, c := range cmds {
			c.GroupID = group
			root.AddCommand(c)
		}
	}
	// Sections in the runbook's order (help lists commands in the order added).
	cobra.EnableCommandSorting = false
	add(GroupSections, storage.NewCmdStorage(f, streams))
	add(GroupSections, lb.NewCmdLB(f, streams))
	add(GroupSections, kubeflow.NewCmdKubeflow(f, streams))
	add(GroupSections, tls.NewCmdTLS(f, streams))
	add(GroupSections, profile.NewCmdProfile(f, streams))
	add(GroupSections, gpu.NewCmdGPU(f, streams))
	add(GroupPlatform, apply.NewCmdApply(f, streams), apply.NewCmdDelete(f, streams), apply.NewCmdDiff(f, streams), apply.NewCmdImages(f, streams), verify.NewCmdVerify(f, streams), rbac.NewCmdRBAC(streams), export.NewCmdExport(f, streams))
	add(GroupOther, version.NewCmdVersion(f, streams), releases.NewCmdReleases(f, streams), completion.NewCmdCompletion(streams))
	enableDiff(root, f, streams)
	cobra.CheckErr(completion.RegisterFlagCompletions(root, f))
	root.SetHelpCommandGroupID(GroupOther)
	root.SetCompletionCommandGroupID(GroupOther)
	return root
}
