package verify

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
)

// NewRegistry lists the checks of every section, in the order `verify` runs and prints them. A
// section adds its checks with one line here: r.Register(<section package>.Checks()...).
func NewRegistry() *checks.Registry {
	r := checks.NewRegistry()
	r.Register(cluster.Checks()...)
	return r
}
