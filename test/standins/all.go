// Package standins holds small controllers that imitate, on the test bed only, what a real node
// agent or operator does on a real cluster (bind NFS claims, hand out LoadBalancer IPs, advertise
// time-sliced GPUs ...). Each file documents the real component it imitates. They never ship in
// the product.
package standins

import "github.com/flexigrobots/kubectl-flexigrobots/test/testbed"

// All returns every stand-in, for `make sim` and `make demo` (tests pick the ones they need).
func All() []testbed.StandIn {
	return []testbed.StandIn{
		// one line per stand-in, e.g. NewNFSProvisioner(),
		NewNFSProvisioner(),
		NewGPUDevicePlugin(),
		NewMetalLBController(),
		NewProfileController(),
		NewCertManager(0),
	}
}
