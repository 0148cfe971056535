package kubeflow

import (
	"context"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Spec is the kubeflow section as the command's flags or the platform file give it.
type Spec struct {
	// Version of the manifests; empty picks the one that fits the server (ChooseVersion).
	Version string
	// Manifests is --manifests (see Source.Manifests).
	Manifests string
	// Edits are the runbook's edits, the GitHub client secret already read.
	Edits Edits
	// NoBuildCache builds even when the build cache holds this build (--no-cache).
	NoBuildCache bool
}

// ResolveVersion returns the profile of version, or, when version is empty, of the version that
// fits the server, saying on stderr which it picked and why.
func ResolveVersion(c *kube.Clients, progress *output.Progress, version string) (Profile, error) {
	if version != "" {
		return ProfileFor(version)
	}
	s, err := versions.Read(c.Discovery)
	if err != nil {
		return Profile{}, err
	}
	pick, err := ChooseVersion(s, "")
	if err != nil {
		return Profile{}, err
	}
	progress.Logf("%s", pick.Message("kubeflow", "Kubeflow"))
	return ProfileFor(pick.Version)
}

// BuildFor loads and edits the manifests of p; for v1.5 it reads the nodes' container runtime
// when the edits do not name one (a failure to read it is a warning).
func BuildFor(ctx context.Context, c *kube.Clients, progress *output.Progress, p Profile, manifests string, ed Edits, noCache bool) (*Built, error) {
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
	b, err := Build(ctx, p, Source{Manifests: manifests, Progress: progress, NoBuildCache: noCache}, ed)
	progress.Done()
	return b, err
}

// Build picks the version (saying which and why when none is given) and builds its manifests
// with the edits: everything of the section that changes nothing in the cluster.
func (in *Installer) Build(ctx context.Context, s Spec) (*Built, error) {
	p, err := ResolveVersion(in.Clients, in.Progress, s.Version)
	if err != nil {
		return nil, err
	}
	return BuildFor(ctx, in.Clients, in.Progress, p, s.Manifests, s.Edits, s.NoBuildCache)
}

// Install is the kubeflow section: Build, then Converge. The kubeflow command and `apply -f`
// both run it (apply -f runs the two halves apart, the build while storage and lb apply).
func (in *Installer) Install(ctx context.Context, s Spec) (*output.Report, error) {
	b, err := in.Build(ctx, s)
	if err != nil {
		return &output.Report{}, err
	}
	return in.Converge(ctx, b, s.Edits.GitHub)
}
