package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// profilesSection is the profiles block (`profile poddefault`). Not wired in this build: Prepare
// reports ErrNotAvailable, so the section is skipped (never reported as applied). To plug it in,
// fill the profile component's spec from pl.Spec.Profiles (AllProfiles or Namespaces) in
// Prepare and call the component in Apply.
type profilesSection struct {
	pl *Platform
}

func (s *profilesSection) Name() string { return "profiles" }

// Needs: PodDefaults are Kubeflow's (its admission webhook and CRD).
func (s *profilesSection) Needs() []string { return []string{"kubeflow"} }

func (s *profilesSection) Prepare(context.Context, *Env) error { return ErrNotAvailable }

func (s *profilesSection) Apply(context.Context, *Env) (*output.Report, error) {
	return &output.Report{}, ErrNotAvailable
}
