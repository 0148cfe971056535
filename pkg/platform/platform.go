// Package platform reads the platform file (plugins.yaml, kind Platform) and runs its sections.
// It knows no section by name: each block of the file is decoded into its section's Spec (see
// pkg/section and pkg/section/registry), checked by the published JSON Schema and by the Spec's
// own Validate and Load, every problem reported with the file's line and column before anything
// changes; then the sections run in the order their needs allow, through section.Apply (or
// section.Uninstall for delete -f), exactly as their commands run them. No cobra here: the
// commands are pkg/plugin/apply.
package platform

import (
	"context"
	"slices"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
)

// APIVersion and Kind of the platform file.
const (
	APIVersion = "flexigrobots.io/v1alpha1"
	Kind       = "Platform"
)

// Header is the platform file's apiVersion, kind and metadata.
type Header struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
}

// Metadata names the platform.
type Metadata struct {
	Name string `json:"name"`
}

// Platform is a validated platform file: its blocks decoded, defaulted, validated, their paths
// resolved and their files read.
type Platform struct {
	Header
	// Path is the file as given; Dir the folder relative paths in it are resolved against.
	Path, Dir string
	// Blocks are the sections the file declares, in the registry's order.
	Blocks []Block
}

// Block is one section the file declares, with its Spec.
type Block struct {
	Section section.Section
	Spec    section.Spec
}

// Name is the block's section name.
func (b Block) Name() string { return b.Section.Name() }

// Order is the sections' names in the order they run (each after the ones it needs).
func Order() []string { return registry.Names() }

// Block returns the block of the section called name, if the file declares it.
func (pl *Platform) Block(name string) (Block, bool) {
	for _, b := range pl.Blocks {
		if b.Name() == name {
			return b, true
		}
	}
	return Block{}, false
}

// NotInFile names the sections an earlier apply recorded (section.RecordedBlocks) that pl does
// not declare, in the registry's order: left as they are by a run of pl, which says so. With
// only, just those of only.
func NotInFile(ctx context.Context, c *kube.Clients, pl *Platform, only []string) ([]string, error) {
	recorded, err := section.RecordedBlocks(ctx, c)
	if err != nil || len(recorded) == 0 {
		return nil, err
	}
	declared := map[string]bool{}
	for _, b := range pl.Blocks {
		declared[b.Name()] = true
	}
	var out []string
	for _, name := range registry.Names() {
		if _, ok := recorded[name]; ok && !declared[name] && (len(only) == 0 || slices.Contains(only, name)) {
			out = append(out, name)
		}
	}
	return out, nil
}
