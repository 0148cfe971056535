package profile

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Name is the section's name: the platform file's block, --only/--skip, `verify --section`.
const Name = "profiles"

// DefaultTimeout is the section's budget when none is given: `profile poddefault` and `profile
// uninstall` show it as --timeout's default.
const DefaultTimeout = 2 * time.Minute

// Spec is the profiles section's desired state: the platform file's profiles block, and what
// `profile poddefault` binds its NAMESPACE arguments and --all-profiles into. Exactly one of
// AllProfiles and Namespaces is given.
type Spec struct {
	// AllProfiles covers the namespace of every Profile (--all-profiles).
	AllProfiles bool `json:"allProfiles,omitempty"`
	// Namespaces are the profile namespaces to cover (the command's NAMESPACE arguments).
	Namespaces []string `json:"namespaces,omitempty"`
	// Remove deletes the PodDefaults this command made from the targets instead of applying
	// them: `profile poddefault --remove` only, never in the file.
	Remove bool `json:"-"`
}

// Default fills nothing: the block has no field with a default (the section's budget is
// DefaultTimeout, a Run's).
func (s *Spec) Default() {}

// Validate checks the block alone: AllProfiles or Namespaces (one of them, not both), and each
// namespace a valid name. Whether a name is a profile's namespace is known only from the
// cluster (Converge says so, exit code 2, before anything changes).
func (s *Spec) Validate() core.Problems {
	var ps core.Problems
	switch {
	case len(s.Namespaces) > 0 && s.AllProfiles:
		ps = append(ps, core.Problemf("", "give {namespaces} or {allProfiles}, not both"))
	case len(s.Namespaces) == 0 && !s.AllProfiles:
		ps = append(ps, core.Problemf("", "which profile namespaces? give {namespaces} (kubectl get profiles) or {allProfiles}"))
	}
	for i, ns := range s.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			ps = append(ps, core.Problemf(fmt.Sprintf("namespaces[%d]", i), "%q is not a valid namespace name: %s", ns, errs[0]))
		}
	}
	return ps
}
