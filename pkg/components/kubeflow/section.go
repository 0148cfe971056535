package kubeflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Section is the kubeflow section (a section.Builder: apply -f builds the manifests while the
// sections it needs apply).
var Section section.Builder = kubeflowSection{}

type kubeflowSection struct{}

// Name is "kubeflow".
func (kubeflowSection) Name() string { return Name }

// Needs: the default StorageClass (storage) and, for a LoadBalancer ingress, MetalLB (lb).
func (kubeflowSection) Needs() []string { return []string{"storage", "lb"} }

// NewSpec is an empty *Spec.
func (kubeflowSection) NewSpec() section.Spec { return &Spec{} }

// Checks are verify's kubeflow checks.
func (kubeflowSection) Checks() []checks.Check { return Checks() }

// Access is the RBAC `kubeflow` needs.
func (kubeflowSection) Access() access.Section { return Access }

// Prepare refuses a version given that cannot install on the server (exit 2), and finds the
// release installed and the upgrade hops to the target (the version given, or the one the
// version matrix picks): no path from the installed release (a downgrade, v1.5.0, a hop that
// cannot install here) is exit 2 too. Without a version, Build says which it picked and why.
func (kubeflowSection) Prepare(ctx context.Context, r *section.Run, s section.Spec) error {
	spec := s.(*Spec)
	spec.upgrade = nil
	if r.Server.Major == 0 && r.Clients == nil {
		return nil // no cluster to check against: the preflight checks the build
	}
	server, err := r.ServerVersion()
	if err != nil {
		return core.Wrapf(err, "kubeflow")
	}
	var given error
	if spec.Version != "" {
		given = CheckVersion(server, spec.Version)
	}
	if r.Clients == nil {
		return given
	}
	up, err := planUpgrade(ctx, r.Clients, server, spec)
	switch {
	case err != nil && up != nil && up.installed.Version == RunbookVersion:
		return err // on the runbook's v1.5.0 the way off it says more than "cannot install here"
	case given != nil:
		return given
	case err != nil:
		return err
	}
	spec.upgrade = up
	return nil
}

// Build picks the version (saying which and why when none is given) and builds its manifests
// with the edits, kept in s for Apply: it reads the cluster (discovery, the nodes' runtime) only.
func (kubeflowSection) Build(ctx context.Context, r *section.Run, s section.Spec) error {
	spec := s.(*Spec)
	spec.built = nil
	p, err := ResolveVersion(r.Clients, r.Progress, spec.Version)
	if err != nil {
		return err
	}
	// Lazy: Apply sends few of the CRDs, often none; Render completes them.
	b, err := buildFor(ctx, r.Clients, r.Progress, p, spec, true)
	if err != nil {
		return err
	}
	spec.built = b
	return nil
}

// Apply converges what Build made (building first when nothing was built).
func (k kubeflowSection) Apply(ctx context.Context, r *section.Run, s section.Spec) (*output.Report, error) {
	spec := s.(*Spec)
	if spec.built == nil {
		if err := k.Build(ctx, r, spec); err != nil {
			return &output.Report{}, err
		}
	}
	b := spec.built
	spec.built = nil // converge edits the build (the cluster's TLS state, dex's hash): build anew next time
	return k.converge(ctx, r, spec, spec.upgrade, b)
}

// Uninstall runs `kubeflow uninstall` (its stores' claims kept unless o.DeleteData).
func (kubeflowSection) Uninstall(ctx context.Context, r *section.Run, s section.Spec, o section.UninstallOptions) (*output.Report, error) {
	return installer(r, s.(*Spec)).Uninstall(ctx, o.DeleteData)
}

// PostConditions are the checks a converge that waited must leave passing: the OIDC client
// secret is a generated one (KUBEFLOW-004, converge always writes it); every workload of
// Kubeflow's namespaces ready (KUBEFLOW-001, what the wait awaited) unless the auth proxy's OIDC
// provider is https, where v1.5's authservice is not awaited until `tls` serves it; and, with a
// GitHub connector, dex has it (KUBEFLOW-003, a warning at most).
func (kubeflowSection) PostConditions(s section.Spec) []checks.Check {
	spec := s.(*Spec)
	ids := []string{"KUBEFLOW-004"}
	if !strings.HasPrefix(spec.OIDCProvider, "https://") {
		ids = append(ids, "KUBEFLOW-001")
	}
	if spec.GitHub != nil {
		ids = append(ids, "KUBEFLOW-003")
	}
	return checks.Pick(Checks(), ids...)
}

// installer is the converge of one run of s.
func installer(r *section.Run, s *Spec) *Installer {
	return &Installer{Clients: r.Clients, Progress: r.Progress, DryRun: r.DryRun, Wait: r.Wait,
		ForceConflicts: s.ForceConflicts || r.ForceConflicts, ForceApply: r.ForceApply, Prune: !s.NoPrune}
}

// ResolveVersion returns the profile of version, or, when version is empty, of the version that
// fits the server, saying on stderr which it picked and why (and the version matrix's warnings,
// e.g. a minor upstream does not state). A version given is not refused here (`kubeflow render`
// may print a release for another cluster); Prepare and the preflight refuse what cannot install.
func ResolveVersion(c *kube.Clients, progress *output.Progress, version string) (Profile, error) {
	if version != "" {
		p, err := ProfileFor(version)
		if err == nil && c != nil {
			if s, serr := versions.Read(c.Discovery); serr == nil {
				if pick, perr := ChooseVersion(s, p.Version); perr == nil {
					for _, w := range pick.Warnings {
						progress.Logf("warning: kubeflow: %s", w)
					}
				}
			}
		}
		return p, err
	}
	if c == nil {
		return Profile{}, fmt.Errorf("no cluster to ask which version fits")
	}
	s, err := versions.Read(c.Discovery)
	if err != nil {
		return Profile{}, err
	}
	pick, err := ChooseVersion(s, "")
	if err != nil {
		return Profile{}, core.Wrapf(err, "kubeflow")
	}
	pick.Log("kubeflow", "Kubeflow", progress.Logf)
	return ProfileFor(pick.Version)
}

// BuildFor loads and edits the manifests of p as s asks (source, mirror, edits, cache); for v1.5
// it reads the nodes' container runtime when the edits do not name one (a failure to read it is
// a warning).
func BuildFor(ctx context.Context, c *kube.Clients, progress *output.Progress, p Profile, s *Spec) (*Built, error) {
	return buildFor(ctx, c, progress, p, s, false)
}

// buildFor is BuildFor; lazy leaves a cached build's CRD schemas encoded (Source.LazySchemas).
func buildFor(ctx context.Context, c *kube.Clients, progress *output.Progress, p Profile, s *Spec, lazy bool) (*Built, error) {
	ed := s.Edits()
	if p.PipelinesPNS != "" && ed.ContainerRuntime == "" && c != nil {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var err error
		ed.ContainerRuntime, err = NodeRuntime(rctx, c.Client)
		cancel()
		if err != nil {
			progress.Logf("warning: kubeflow: cannot read the nodes' container runtime (%v): keeping the example's pipelines overlay; set --container-runtime", err)
		}
	}
	progress.Update("kubeflow: loading and building the %s manifests", p.Version)
	b, err := Build(ctx, p, Source{Manifests: s.Manifests, ManifestsMirror: s.ManifestsMirror, RemoteBasesMirror: s.RemoteBasesMirror, Progress: progress, NoBuildCache: s.NoBuildCache, LazySchemas: lazy}, ed)
	progress.Done()
	return b, err
}
