package verify

import (
	"slices"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
)

// NewRegistry lists the checks `verify` runs, in the order it prints them: the cluster's, then
// each section's in the runbook's order (pkg/section/registry: a new section is listed there).
func NewRegistry() *checks.Registry {
	r := checks.NewRegistry()
	r.Register(cluster.Checks(func() []access.Section { return append([]access.Section{r.Access()}, CommandAccess()...) })...)
	for _, s := range registry.Sections {
		r.Register(s.Checks()...)
	}
	return r
}

// CommandAccess is each section command's access declaration, in the runbook's order, with
// what every section's apply and uninstall need besides (its block in section.PlatformRecord).
func CommandAccess() []access.Section {
	out := make([]access.Section, 0, len(registry.Sections))
	for _, s := range registry.Sections {
		a := s.Access()
		a.Rules = append(slices.Clone(a.Rules), section.PlatformRecordRules...)
		out = append(out, a)
	}
	return out
}
