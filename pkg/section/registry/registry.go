// Package registry lists the runbook's sections in the order they run (each after the ones it
// needs). The platform file's loader and scheduler, verify and rbac read it; adding a section
// is one line here (see pkg/section for the contract).
package registry

import (
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Sections are every section, in the runbook's order.
var Sections = []section.Section{
	storage.Section,
	lb.Section,
	kubeflow.Section,
	tls.Section,
	profile.Section,
	gpu.Section,
}

// Names are the sections' names, in Sections' order.
func Names() []string {
	out := make([]string, len(Sections))
	for i, s := range Sections {
		out[i] = s.Name()
	}
	return out
}

// Lookup returns the section called name, or nil.
func Lookup(name string) section.Section {
	for _, s := range Sections {
		if s.Name() == name {
			return s
		}
	}
	return nil
}
