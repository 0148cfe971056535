package apply

import (
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

// NewCmdDiff builds `kubectl flexigrobots diff -f plugins.yaml`: apply's run as a server-side
// dry run whose output is the unified diff (the root prints it; see cmdutil.AnnotationDiff).
func NewCmdDiff(f *kube.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &Options{factory: f, streams: streams}
	o.Diff = true
	cmd := &cobra.Command{
		Use:   "diff -f plugins.yaml [--only SECTION,...] [--skip SECTION,...]",
		Short: "Show what apply -f would change, as a unified diff against the live cluster",
		Long: `Run every section the platform file declares as apply -f would, but as a server-side dry run,
and print what would change, object by object, as a unified diff against the live state, the way
kubectl diff does (diff -u -N, or $KUBECTL_EXTERNAL_DIFF). Managed fields, status and what the
server sets on every write are left out; Secret values are masked ("***", or "*** (before)" and
"*** (after)" when a value would change). Nothing is changed.

Objects the plugin applies are diffed against the server's dry-run result. Helm releases (storage,
lb, gpu) are diffed as the helm-diff plugin does: the deployed release's manifest against the new
revision's (the chart's Secrets and hooks are not shown); a release not installed yet shows every
object it would create. Deletions show as removed files. Not shown: what a section does outside
an apply (the lb kube-proxy strictARP edit, the lb address probe, the storage smoke test,
restarts).

Progress goes to stderr, the diff to stdout. Exit codes (kubectl diff's): 0 nothing would change,
1 something would, 2 invalid file or flags, 3 the diff could not be made.`,
		Example: `  # What would apply -f change?
  kubectl flexigrobots diff -f plugins.yaml

  # Only Kubeflow, with a side-by-side diff program
  KUBECTL_EXTERNAL_DIFF="diff -y" kubectl flexigrobots diff -f plugins.yaml --only kubeflow

  # In a pipeline: fail when the cluster drifted from the file
  kubectl flexigrobots diff -f plugins.yaml >/dev/null || echo "drift (or error: exit $?)"`,
		Args:        cmdutil.NoArgs,
		Annotations: map[string]string{cmdutil.AnnotationDiff: "true"},
		RunE:        o.validateCompleteRun,
	}
	o.addFlags(cmd, "The platform file (e.g. plugins.yaml); relative paths in it are relative to it", "Diff", "Leave these sections out (comma-separated)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Minute, "Give up after this long")
	o.Output = "table"
	return cmd
}
