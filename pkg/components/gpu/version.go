package gpu

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// server is the Run's server version, read from the cluster when the Run has none.
func (in *installer) server() (versions.Server, error) {
	if in.Server.Major > 0 {
		return in.Server, nil
	}
	return versions.Read(in.Clients.Discovery)
}
