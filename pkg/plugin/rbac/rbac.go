// Package rbac implements `kubectl flexigrobots rbac`: the ClusterRole an identity needs to run
// the given sections, printed from their access declarations (pkg/access), the same ones the
// RBAC check CLUSTER-005 reviews.
package rbac

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/verify"
)

// NewCmdRBAC builds `kubectl flexigrobots rbac`.
func NewCmdRBAC(streams genericiooptions.IOStreams) *cobra.Command {
	var name, out string
	names := sectionNames()
	cmd := &cobra.Command{
		Use:   "rbac [SECTION...] [--name NAME] [-o yaml|json]",
		Short: "Print the ClusterRole that runs the given sections (default: all), for kubectl apply",
		Long: `Print a ClusterRole with exactly what the commands of the given sections do to the cluster
(sections: ` + strings.Join(names, ", ") + `; default: all of them), from the same declarations the
RBAC check (CLUSTER-005 in verify) reviews. Bind it to the identity that runs them, instead of
cluster-admin. Nothing is read from or written to the cluster.

verify's role reads what the checks read (Secrets only by name) and leaves out the CSR-signing
probe's rights: approving kube-apiserver-client CSRs would let the identity mint a certificate for
any user, so CLUSTER-004 is skipped for it. Installing Kubeflow creates ClusterRoles and bindings
(one to cluster-admin) for its controllers; Kubernetes allows that only to an identity that holds
what they grant or may escalate and bind, so the kubeflow role is cluster-admin in effect (and
holds the CSR probe's rights: its preflight probes signing).`,
		Example: `  # A CI identity that only verifies
  kubectl flexigrobots rbac verify --name flexigrobots-verify | kubectl apply -f -
  kubectl create clusterrolebinding ci-verify --clusterrole=flexigrobots-verify --serviceaccount=ci:verifier

  # Storage and the load balancer only
  kubectl flexigrobots rbac storage lb --name platform-network`,
		ValidArgs: names,
		RunE: func(cmd *cobra.Command, args []string) error {
			sections, err := pick(args)
			if err != nil {
				return err
			}
			if out != "yaml" && out != "json" {
				return core.UsageErrorf("invalid -o %q: use yaml or json", out)
			}
			var p printers.ResourcePrinter = &printers.YAMLPrinter{}
			if out == "json" {
				p = &printers.JSONPrinter{}
			}
			return p.PrintObj(access.ClusterRole(name, sections...), streams.Out)
		},
	}
	cmd.Flags().StringVar(&name, "name", "flexigrobots", "Name of the ClusterRole")
	cmd.Flags().StringVarP(&out, "output", "o", "yaml", "Output format: yaml or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// all is verify's declaration (derived from its checks) and every command section's.
func all() []access.Section {
	return append([]access.Section{verify.NewRegistry().Access()}, verify.CommandAccess()...)
}

func sectionNames() []string {
	var out []string
	for _, s := range all() {
		out = append(out, s.Name)
	}
	return out
}

// pick returns the named sections, all of them when none is named; an unknown name is exit 2.
func pick(args []string) ([]access.Section, error) {
	sections := all()
	if len(args) == 0 {
		return sections, nil
	}
	var out []access.Section
	for _, a := range args {
		i := slices.IndexFunc(sections, func(s access.Section) bool { return s.Name == a })
		if i < 0 {
			return nil, core.UsageErrorf("unknown section %q: use one or more of %s", a, strings.Join(sectionNames(), ", "))
		}
		out = append(out, sections[i])
	}
	return out, nil
}
