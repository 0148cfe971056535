package lb

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// ChartRule picks the MetalLB chart for the server: 0.15.3 where CRD validation rules (CEL) are
// served (Kubernetes >= 1.25), 0.14.3 (the last chart without them) below.
var ChartRule = versions.CELRule{What: "MetalLB chart", Flag: "--chart-version", Current: DefaultChartVersion, LastWithout: "0.14.3", FirstWith: "0.14.4"}

// pickChart fills chart.Version, when empty, with the MetalLB chart that fits server and says on
// stderr which and why. A chart given by path or URL (--chart) is left alone. Prepare has
// refused a version given that cannot install there.
func (in *Installer) pickChart(server versions.Server, chart *core.ChartSource) error {
	if chart.Chart != "" && chart.Version == "" {
		return nil
	}
	p, err := ChartRule.Pick(server, chart.Version)
	if err != nil {
		return core.Wrapf(err, "lb")
	}
	chart.Version = p.Version
	in.Progress.Logf("%s", p.Message("lb", "MetalLB chart"))
	return nil
}

// checkChartVersion is Prepare's check: a chart version given that cannot install on server is
// a usage error (exit 2) naming {chart.version} (each entry point renders it: --chart-version,
// or the file's field) and the versions that would install.
func checkChartVersion(server versions.Server, chart core.ChartSource) error {
	if chart.Version == "" {
		return nil
	}
	rule := ChartRule
	rule.Flag = "{chart.version}"
	if _, err := rule.Pick(server, chart.Version); err != nil {
		return core.Wrapf(err, "lb: {chart.version}")
	}
	return nil
}
