package tls

import (
	"context"
	"fmt"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Section is the tls section (see pkg/section): `tls`, `tls --remove`, `tls uninstall` and the
// platform file's tls block all run through it.
var Section section.Section = tlsSection{}

// tlsSection implements section.Section; what a run resolves is kept in the *Spec.
type tlsSection struct{}

// Name is "tls".
func (tlsSection) Name() string { return Name }

// Needs: the HTTPS server goes on Kubeflow's Gateway, and ACME uses Kubeflow's cert-manager.
func (tlsSection) Needs() []string { return []string{"kubeflow"} }

// NewSpec is an empty *Spec.
func (tlsSection) NewSpec() section.Spec { return &Spec{} }

// Prepare checks the loaded certificate's dates against the clock (expired or not yet valid: a
// usage error, exit 2; expiring within ExpiryWarning: a warning on r.Progress) and resolves the
// state Apply records. It reads nothing from the cluster. s must be valid and loaded.
func (tlsSection) Prepare(_ context.Context, r *section.Run, s section.Spec) error {
	spec, err := specOf(s)
	if err != nil {
		return err
	}
	return spec.prepare(r, time.Now())
}

func (s *Spec) prepare(r *section.Run, now time.Time) error {
	if s.Manual != nil && s.ACME == nil && len(s.certs) == 0 {
		return fmt.Errorf("tls: the manual certificate was not loaded (Load before Prepare)")
	}
	warnings, err := s.checkDates(now)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		r.Progress.Logf("warning: tls: %s", w)
	}
	st, err := s.stateOf()
	if err != nil {
		return err
	}
	s.state = st
	return nil
}

// Apply records the state, applies the certificate objects, the Gateway's HTTPS server and (ACME)
// the challenge exclusion, restarts authservice when its allow-list changed (Kubeflow v1.5), then
// with r.Wait waits for the ACME Certificate and authservice. Prepare runs first when the caller
// did not run it.
func (tlsSection) Apply(ctx context.Context, r *section.Run, s section.Spec) (*output.Report, error) {
	spec, err := specOf(s)
	if err != nil {
		return &output.Report{}, err
	}
	if spec.state == nil {
		if err := spec.prepare(r, time.Now()); err != nil {
			return &output.Report{}, err
		}
	}
	return newInstaller(r).converge(ctx, spec)
}

// Uninstall goes back to HTTP only (`tls --remove`, `tls uninstall`): the Gateway and allow-list
// as `kubeflow` renders them without TLS, then what tls created and its record deleted. s and o
// do not matter: the record says what tls created.
func (tlsSection) Uninstall(ctx context.Context, r *section.Run, _ section.Spec, _ section.UninstallOptions) (*output.Report, error) {
	return newInstaller(r).remove(ctx)
}

// Checks are the checks of `verify --section tls`.
func (tlsSection) Checks() []checks.Check { return Checks() }

// PostConditions are the checks an apply of s that waited makes hold by what it did itself:
//   - TLS-001 (the Gateway's HTTPS server and its Secret) always: Apply rendered the server with
//     the Secret it wrote (manual) or waited for cert-manager to write (the Certificate Ready).
//   - TLS-002 (the served certificate covers the hosts and is valid) for a manual certificate
//     only: Load checked the names and Prepare the dates of the very certificate Apply wrote. An
//     ACME certificate is the issuer's: its names and lifetime are not Apply's to promise (the
//     test bed's stand-in issues 30-second certificates).
//   - TLS-004 (the challenge path passes the allow-list) and TLS-005 (no port-80 redirect) for
//     ACME: Apply rendered both from the record it wrote.
//
// TLS-003 is left out: Ready is what Apply waited for, but its renewal-time half can fail for a
// moment on every renewal of a short-lived certificate while cert-manager re-issues it.
func (tlsSection) PostConditions(s section.Spec) []checks.Check {
	spec, err := specOf(s)
	if err != nil {
		return nil
	}
	want := []string{"TLS-001"}
	switch {
	case spec.ACME != nil:
		want = append(want, "TLS-004", "TLS-005")
	case spec.Manual != nil:
		want = append(want, "TLS-002")
	}
	return checks.Pick(Checks(), want...)
}

// Access is the RBAC of `tls`, `tls status` and `tls uninstall`.
func (tlsSection) Access() access.Section { return Access }

// specOf is s as the section's *Spec.
func specOf(s section.Spec) (*Spec, error) {
	spec, ok := s.(*Spec)
	if !ok || spec == nil {
		return nil, fmt.Errorf("tls: spec is %T, want *tls.Spec", s)
	}
	return spec, nil
}
