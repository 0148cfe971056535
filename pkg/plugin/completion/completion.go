// Package completion implements `kubectl flexigrobots completion SHELL` and the completion of the
// kubeconfig flags' values (--context, --cluster, --user from the kubeconfig), the way kubectl
// registers them for its own global flags, and of --release-namespace (from the cluster).
package completion

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	kcmdutil "k8s.io/kubectl/pkg/cmd/util"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// BinaryName is the executable the generated scripts complete. kubectl's own completion of
// `kubectl flexigrobots <TAB>` goes through the kubectl_complete-flexigrobots helper instead.
const BinaryName = "kubectl-flexigrobots"

// Shells are the shells a completion script can be generated for.
var Shells = []string{"bash", "zsh", "fish", "powershell"}

const long = `Print the shell completion script of kubectl-flexigrobots.

Two ways to complete:
  * "kubectl-flexigrobots <TAB>": load the script printed here in your shell (see the examples).
  * "kubectl flexigrobots <TAB>" (kubectl 1.26 or newer): kubectl asks the helper
    kubectl_complete-flexigrobots found on PATH; it ships in the release archives (krew keeps it
    in its store: link it into a folder on PATH, see the krew caveats). kubectl's own completion
    must be loaded (source <(kubectl completion bash)).

Flag values complete too: --context, --cluster and --user from your kubeconfig,
--release-namespace from the cluster.`

const example = `  # bash, this shell only
  source <(kubectl flexigrobots completion bash)

  # bash, every new shell (needs the bash-completion package)
  kubectl flexigrobots completion bash > ~/.local/share/bash-completion/completions/kubectl-flexigrobots

  # zsh
  kubectl flexigrobots completion zsh > "${fpath[1]}/_kubectl-flexigrobots"

  # fish
  kubectl flexigrobots completion fish > ~/.config/fish/completions/kubectl-flexigrobots.fish

  # PowerShell
  kubectl flexigrobots completion powershell | Out-String | Invoke-Expression`

// Options holds the arguments of `completion`.
type Options struct {
	Shell          string
	NoDescriptions bool
	genericiooptions.IOStreams
}

// NewCmdCompletion builds `kubectl flexigrobots completion bash|zsh|fish|powershell`.
func NewCmdCompletion(streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{IOStreams: streams}
	cmd := &cobra.Command{
		Use:                   "completion " + strings.Join(Shells, "|"),
		Short:                 "Print the shell completion script (bash, zsh, fish or powershell)",
		Long:                  long,
		Example:               example,
		DisableFlagsInUseLine: true,
		ValidArgs:             Shells,
		ValidArgsFunction:     cobra.FixedCompletions(Shells, cobra.ShellCompDirectiveNoFileComp),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			return o.Run(cmd.Root())
		},
	}
	cmd.Flags().BoolVar(&o.NoDescriptions, "no-descriptions", false, "leave the descriptions out of the completions")
	return cmd
}

// Complete reads the shell argument and checks it.
func (o *Options) Complete(args []string) error {
	if len(args) != 1 {
		return core.UsageErrorf("completion needs exactly one shell, one of %s: e.g. `kubectl flexigrobots completion bash`", strings.Join(Shells, ", "))
	}
	o.Shell = args[0]
	for _, s := range Shells {
		if s == o.Shell {
			return nil
		}
	}
	return core.UsageErrorf("unsupported shell %q: use one of %s", o.Shell, strings.Join(Shells, ", "))
}

// Run writes the script for root, named after the plugin binary so the shell binds it to
// kubectl-flexigrobots (the root command's own name is "flexigrobots").
func (o *Options) Run(root *cobra.Command) error {
	use := root.Use
	root.Use = BinaryName
	defer func() { root.Use = use }()
	return Generate(root, o.Shell, !o.NoDescriptions, o.Out)
}

// Generate writes cobra's completion script for shell to w.
func Generate(root *cobra.Command, shell string, descriptions bool, w io.Writer) error {
	switch shell {
	case "bash":
		return root.GenBashCompletionV2(w, descriptions)
	case "zsh":
		if descriptions {
			return root.GenZshCompletion(w)
		}
		return root.GenZshCompletionNoDesc(w)
	case "fish":
		return root.GenFishCompletion(w, descriptions)
	case "powershell":
		if descriptions {
			return root.GenPowerShellCompletionWithDesc(w)
		}
		return root.GenPowerShellCompletion(w)
	}
	return fmt.Errorf("unsupported shell %q", shell)
}

// RegisterFlagCompletions completes the values of root's kubeconfig flags, --context, --cluster and
// --user, from the kubeconfig, and every command's --release-namespace with the cluster's
// namespaces. kubectl's ready-made functions (k8s.io/kubectl/pkg/util/completion) are not used on
// purpose: that package links kubectl's get and api-resources commands, whose package init loads
// kubectl's translations and costs about 50 ms on every start of the plugin. Call it once every
// command is added; flags a command does not have are skipped.
func RegisterFlagCompletions(root *cobra.Command, f kcmdutil.Factory) error {
	kubeconfig := func(pick func(*clientcmdapi.Config) []string) func(string) []string {
		return func(toComplete string) []string {
			cfg, err := f.ToRawKubeConfigLoader().RawConfig()
			if err != nil {
				return nil
			}
			return withPrefix(pick(&cfg), toComplete)
		}
	}
	funcs := map[string]func(string) []string{
		"context": kubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.Contexts)) }),
		"cluster": kubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.Clusters)) }),
		"user":    kubeconfig(func(c *clientcmdapi.Config) []string { return slices.Collect(maps.Keys(c.AuthInfos)) }),
	}
	for name, list := range funcs {
		if root.Flag(name) == nil {
			continue
		}
		if err := root.RegisterFlagCompletionFunc(name, complete(list)); err != nil {
			return err
		}
	}
	return registerNamespaceFlags(root, complete(func(prefix string) []string { return namespaces(f, prefix) }))
}

// registerNamespaceFlags gives cmd's and its subcommands' --release-namespace the completion fn.
func registerNamespaceFlags(cmd *cobra.Command, fn cobra.CompletionFunc) error {
	if cmd.LocalFlags().Lookup("release-namespace") != nil {
		if err := cmd.RegisterFlagCompletionFunc("release-namespace", fn); err != nil {
			return err
		}
	}
	for _, c := range cmd.Commands() {
		if err := registerNamespaceFlags(c, fn); err != nil {
			return err
		}
	}
	return nil
}

// complete turns a list of values by prefix into a flag completion without file names.
func complete(list func(string) []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return list(toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// namespaces lists the cluster's namespaces starting with prefix; none when the cluster does not
// answer within a few seconds (a shell waiting on TAB must not hang).
func namespaces(f kcmdutil.Factory, prefix string) []string {
	cs, err := f.KubernetesClientSet()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(list.Items))
	for _, ns := range list.Items {
		names = append(names, ns.Name)
	}
	return withPrefix(names, prefix)
}

// withPrefix returns the names starting with prefix, sorted.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}
