package gpu

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// ChartRule picks the gpu-operator chart for the server: v26.7.0 where CRD validation rules
// (CEL) are served (Kubernetes >= 1.25), v23.6.2 (the last chart without them) below.
var ChartRule = versions.CELRule{What: "gpu-operator chart", Flag: "--chart-version", Current: DefaultChartVersion, LastWithout: "v23.6.2", FirstWith: "v23.9.0"}

// resolveChart fills chart.Version, when empty, with the gpu-operator chart that fits the server
// and says on stderr which and why; a version given that cannot install there is a usage error
// (exit 2) naming the versions that would. A chart given by path or URL (--chart) is left alone.
func (in *installer) resolveChart(chart *core.ChartSource) error {
	if chart.Chart != "" && chart.Version == "" {
		return nil
	}
	s, err := in.server()
	if err != nil {
		return core.Wrapf(err, "gpu")
	}
	p, err := ChartRule.Pick(s, chart.Version)
	if err != nil {
		return core.Wrapf(err, "gpu")
	}
	chart.Version = p.Version
	in.Progress.Logf("%s", p.Message("gpu", "gpu-operator chart"))
	return nil
}

// server is the Run's server version, read from the cluster when the Run has none.
func (in *installer) server() (versions.Server, error) {
	if in.Server.Major > 0 {
		return in.Server, nil
	}
	return versions.Read(in.Clients.Discovery)
}
