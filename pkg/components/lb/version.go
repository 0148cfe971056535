package lb

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// ChartRule picks the MetalLB chart for the server: 0.15.3 where CRD validation rules (CEL) are
// served (Kubernetes >= 1.25), 0.14.3 (the last chart without them) below.
var ChartRule = versions.CELRule{What: "MetalLB chart", Flag: "--chart-version", Current: DefaultChartVersion, LastWithout: "0.14.3", FirstWith: "0.14.4"}

// ResolveChart fills chart.Version, when empty, with the MetalLB chart that fits the server and
// says on stderr which and why; a version given that cannot install there is a usage error
// (exit 2) naming the versions that would. A chart given by path or URL (--chart) is left alone.
func (in *Installer) ResolveChart(chart *core.ChartSource) error {
	if chart.Chart != "" && chart.Version == "" {
		return nil
	}
	s, err := versions.Read(in.Clients.Discovery)
	if err != nil {
		return core.Wrapf(err, "lb")
	}
	p, err := ChartRule.Pick(s, chart.Version)
	if err != nil {
		return core.Wrapf(err, "lb")
	}
	chart.Version = p.Version
	in.Progress.Logf("%s", p.Message("lb", "MetalLB chart"))
	return nil
}
