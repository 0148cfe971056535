package lb

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// ChartRule picks the MetalLB chart for the server: 0.15.3 where CRD validation rules (CEL) are
// served (Kubernetes >= 1.25), 0.14.3 (the last chart without them) below.
var ChartRule = versions.CELRule{What: "MetalLB chart", Flag: "--chart-version", Current: DefaultChartVersion, LastWithout: "0.14.3", FirstWith: "0.14.4"}
