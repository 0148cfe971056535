// Package section is the contract every runbook section (storage, lb, kubeflow, tls, profiles,
// gpu) implements once, in its own package under pkg/components, and that every entry point
// uses: the section's command (pkg/plugin/<section>), `apply -f`, `diff -f` and `delete -f`
// (pkg/platform), `verify` and `rbac` (through pkg/section/registry).
//
// A section is a value with the same verbs everywhere:
//
//   - NewSpec: its desired state, which *is* its block of the platform file (json tags). The
//     command binds its flags into the same Spec; Default fills what neither gave, Validate
//     checks it without I/O and names every problem by its field, and each entry point renders
//     the field its own way (FILE:LINE:COL and the field; or the flag).
//   - Prepare: what needs the cluster but changes nothing (a version given that cannot install
//     on this server); a usage error stops every section before anything changes.
//   - Apply / Uninstall: the work, under one Run (dry-run strategy, wait, budget, clients).
//   - Checks, PostConditions: verify's checks, and the ones that must hold after an apply that
//     waited (run by section.Apply; a failure is exit code 3, as in verify).
//   - Access: the RBAC its commands need (`rbac`, CLUSTER-005).
//   - Render (optional, Renderer): the objects it would apply and the pods the plugin starts,
//     changing nothing (`images`).
//   - Needs: the sections that must have succeeded before it applies.
//
// Adding a section: write pkg/components/<name> with a value implementing Section (and its
// checks and access), add one line to pkg/section/registry, and write its command in
// pkg/plugin/<name> (flags bound into the Spec, run through section.Apply).
package section

import (
	"context"
	"fmt"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Run is how one run goes, the same for a section's command and for apply -f / delete -f.
type Run struct {
	Clients  *kube.Clients
	Helm     *helm.Client
	Progress *output.Progress
	// DryRun: none changes the cluster; client and server report what would change.
	DryRun core.DryRunStrategy
	// Wait waits until what was applied is ready (and what was deleted is gone).
	Wait bool
	// Timeout is the section's whole budget (--timeout). section.Apply and section.Uninstall
	// bound the context by it once; steps inside share what is left (core.Budget), never
	// re-wrap it.
	Timeout time.Duration
	// Server is the cluster's Kubernetes version, read once per run.
	Server versions.Server
	// ForceApply sends every object of the apply sets, skipping none an apply record says is
	// unchanged (--force-apply).
	ForceApply bool
	// ForceConflicts takes over fields other field managers own, also where an object made by
	// hand holds other values than the section applies (--force-conflicts).
	ForceConflicts bool
	// PruneAdopted deletes what a platform built by hand left that the section took over and
	// no longer uses (--prune-adopted; e.g. the runbook's time-slicing ConfigMap once the device
	// plugin reads the section's own). Without it such objects are named in a note and kept.
	PruneAdopted bool
}

// Spec is a section's desired state: its block of the platform file, and what its command's
// flags fill.
type Spec interface {
	// Default fills every field left empty with the section's default (the values the
	// command's flags show as their defaults).
	Default()
	// Validate checks the Spec alone: no file, no cluster, nothing printed. Each problem names
	// its field by its path in the block (json names), e.g. "chart.certFile", "addresses[1]".
	Validate() core.Problems
}

// FileSpec is a Spec that names local files (a chart, a certificate, a secret).
type FileSpec interface {
	Spec
	// Resolve makes the relative paths absolute with abs (the platform file's folder; the
	// command leaves them relative to the working directory).
	Resolve(abs func(string) string)
	// Load reads or stats the files (secrets are kept in unexported fields, never printed),
	// each problem at its field.
	Load() core.Problems
}

// UninstallOptions are what `delete -f` and the uninstall commands ask of an uninstall beyond
// the Run.
type UninstallOptions struct {
	// DeleteData deletes the claims Kubeflow's stores hold (kept otherwise, with their namespace
	// and the storage release that serves them).
	DeleteData bool
	// Force uninstalls storage while claims of its class are bound.
	Force bool
	// KeepIfBound reports the storage release kept while claims of its class are bound, instead
	// of refusing (delete -f); without it, storage uninstall refuses with exit code 2.
	KeepIfBound bool
}

// Section is one runbook section.
type Section interface {
	// Name is the block's name in the file, in --only/--skip, verify --section and the summary.
	Name() string
	// Needs names the sections that must have succeeded before this one applies.
	Needs() []string
	// NewSpec is an empty Spec of the section, to decode a block or bind flags into.
	NewSpec() Spec
	// Prepare checks, before any section changes anything, what needs the cluster but changes
	// nothing. A usage error (exit 2) stops the whole run.
	Prepare(ctx context.Context, r *Run, s Spec) error
	// Apply converges the section and reports every object; the report holds what was done
	// also on error. Call it through section.Apply (budget, post-conditions).
	Apply(ctx context.Context, r *Run, s Spec) (*output.Report, error)
	// Uninstall takes the section down; s holds at least the block's names and namespaces.
	Uninstall(ctx context.Context, r *Run, s Spec, o UninstallOptions) (*output.Report, error)
	// Checks are the section's checks in `verify`.
	Checks() []checks.Check
	// PostConditions are the checks that must hold after an Apply of s that waited.
	PostConditions(s Spec) []checks.Check
	// Access is the RBAC the section's commands need.
	Access() access.Section
}

// Builder is a Section with work that changes nothing in the cluster (a download, a build):
// apply -f starts it at once, beside the sections it needs, and Apply uses what it made (kept
// in s).
type Builder interface {
	Section
	Build(ctx context.Context, r *Run, s Spec) error
}

// SpecAs is s as its section's own *T: an error naming the section when it is not (a Spec of
// another section passed by mistake), never a panic.
func SpecAs[T any](name string, s Spec) (*T, error) {
	spec, ok := any(s).(*T)
	if !ok || spec == nil {
		return nil, fmt.Errorf("%s: spec is %T, want %T", name, s, spec)
	}
	return spec, nil
}

// ServerVersion is r.Server, read from the cluster (once per run) when the entry point left it
// unset.
func (r *Run) ServerVersion() (versions.Server, error) {
	if r.Server.Major > 0 {
		return r.Server, nil
	}
	if r.Clients == nil {
		return versions.Server{}, fmt.Errorf("no cluster to read the Kubernetes version from")
	}
	s, err := versions.Read(r.Clients.Discovery)
	if err != nil {
		return s, err
	}
	r.Server = s
	return s, nil
}
