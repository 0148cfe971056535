package kubeflow

import (
	"fmt"
	"io"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// printPlan writes the plan as json or yaml, or (table) as one block per hop: its counts, then
// the migrations, what is kept and why, what is pruned, and upstream's notes (the created and
// changed objects are listed by -o json|yaml). Objects kept for the same reason share a line.
func printPlan(w io.Writer, format string, p *kubeflow.UpgradePlan) error {
	if format != "table" {
		return output.Print(w, format, p)
	}
	var b strings.Builder
	switch {
	case p.Installed == "":
		fmt.Fprintf(&b, "No Kubeflow is installed: a run installs %s (nothing to upgrade).\n", p.Target)
	case len(p.Hops) == 0:
		fmt.Fprintf(&b, "Kubeflow %s is installed (%s): nothing to upgrade (`kubectl flexigrobots kubeflow --diff` shows what a run would change).\n", p.Installed, p.FoundBy)
	default:
		fmt.Fprintf(&b, "Kubeflow %s is installed (%s); the upgrade to %s takes %s:\n", p.Installed, p.FoundBy, p.Target, output.Count(len(p.Hops), "hop"))
	}
	for i, h := range p.Hops {
		fmt.Fprintf(&b, "\nhop %d of %d: %s → %s: %d created, %d changed, %d pruned, %d kept, %s\n",
			i+1, len(p.Hops), h.From, h.To, len(h.Created), len(h.Changed), len(h.Pruned), len(h.Kept), output.Count(len(h.Migrations), "migration"))
		for _, m := range h.Migrations {
			when := "before the apply"
			if m.AfterApply {
				when = "after the apply"
			}
			fmt.Fprintf(&b, "  migrate: %s, %s (%s)\n", when, m.Name, m.Source)
		}
		var reasons []string
		kept := map[string][]string{}
		for _, k := range h.Kept {
			if kept[k.Why] == nil {
				reasons = append(reasons, k.Why)
			}
			kept[k.Why] = append(kept[k.Why], k.Object)
		}
		for _, why := range reasons {
			fmt.Fprintf(&b, "  keep:    %s: %s\n", strings.Join(kept[why], ", "), why)
		}
		for _, x := range h.Pruned {
			fmt.Fprintf(&b, "  prune:   %s\n", x)
		}
		for _, n := range h.Notes {
			fmt.Fprintf(&b, "  note:    %s\n", n)
		}
	}
	if len(p.Hops) > 0 {
		b.WriteString("\nNothing was changed. Run the same command without --plan to upgrade; -o json lists every object created and changed.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
