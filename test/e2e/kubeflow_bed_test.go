package e2e

import (
	"sort"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// bedSuite is a group of tests that needs an installed Kubeflow and does not disturb the other
// groups (each works on its own objects). The Kubeflow tests run every registered suite as a
// subtest on their test bed after the install, so CI pays one Kubeflow install per version.
type bedSuite func(t *testing.T, c *testbed.Cluster, kubeflowVersion string)

var bedSuites = map[string]bedSuite{}

// onKubeflowBed registers a suite (call it from an init function of the suite's file). Run one
// suite alone with e.g. `go test ./test/e2e -run 'TestKubeflowV110/profiles'`.
func onKubeflowBed(name string, s bedSuite) {
	if _, dup := bedSuites[name]; dup {
		panic("duplicate kubeflow bed suite " + name)
	}
	bedSuites[name] = s
}

// runBedSuites runs every registered suite, in name order, as a subtest of t on c.
func runBedSuites(t *testing.T, c *testbed.Cluster, kubeflowVersion string) {
	t.Helper()
	names := make([]string, 0, len(bedSuites))
	for n := range bedSuites {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := bedSuites[n]
		t.Run(n, func(t *testing.T) { s(t, c, kubeflowVersion) })
	}
}
