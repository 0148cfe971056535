package platform

import (
	"context"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// tlsSection is the tls block. Not wired in this build: Prepare reports ErrNotAvailable, so the
// section is skipped (never reported as applied). To plug it in, fill the tls component's Spec
// from pl.Spec.TLS (pl.TLSCert and pl.TLSKey hold the files' contents) in Prepare, validating
// it there, and call the component's Apply in Apply.
type tlsSection struct {
	pl *Platform
}

func (s *tlsSection) Name() string { return "tls" }

// Needs: the HTTPS gateway is Kubeflow's.
func (s *tlsSection) Needs() []string { return []string{"kubeflow"} }

func (s *tlsSection) Prepare(context.Context, *Env) error { return ErrNotAvailable }

func (s *tlsSection) Apply(context.Context, *Env) (*output.Report, error) {
	return &output.Report{}, ErrNotAvailable
}
