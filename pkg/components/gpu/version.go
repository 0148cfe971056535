package gpu

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// ChartRule picks the gpu-operator chart for the server: v26.7.0 where CRD validation rules
// (CEL) are served (Kubernetes >= 1.25), v23.6.2 (the last chart without them) below.
var ChartRule = versions.CELRule{What: "gpu-operator chart", Flag: "--chart-version", Current: DefaultChartVersion, LastWithout: "v23.6.2", FirstWith: "v23.9.0"}

// server is the Run's server version, read from the cluster when the Run has none.
func (in *installer) server() (versions.Server, error) {
	if in.Server.Major > 0 {
		return in.Server, nil
	}
	return versions.Read(in.Clients.Discovery)
}
