package verify

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
)

// NewRegistry lists the checks of every section, in the order `verify` runs and prints them. A
// section adds its checks with one line here: r.Register(<section package>.Checks()...), and
// its access declaration with one line in CommandAccess.
func NewRegistry() *checks.Registry {
	r := checks.NewRegistry()
	r.Register(cluster.Checks(func() []access.Section { return append([]access.Section{r.Access()}, CommandAccess()...) })...)
	r.Register(lb.Checks()...)
	r.Register(gpu.Checks()...)
	r.Register(storage.Checks()...)
	r.Register(kubeflow.Checks()...)
	r.Register(tls.Checks()...)
	r.Register(profile.Checks()...)
	return r
}

// CommandAccess is each section command's access declaration, in the runbook's order.
func CommandAccess() []access.Section {
	return []access.Section{storage.Access, lb.Access, kubeflow.Access, tls.Access, profile.Access, gpu.Access}
}
