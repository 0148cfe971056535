package kubeflow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// UpgradePlan is what `kubeflow --plan` prints: the release installed, the target and, per hop,
// what its apply creates, changes and prunes, what the prune keeps and which migrations run.
type UpgradePlan struct {
	// Installed is the release on the cluster ("" for none) and FoundBy how it was found.
	Installed string    `json:"installed,omitempty"`
	FoundBy   string    `json:"foundBy,omitempty"`
	Target    string    `json:"target"`
	Hops      []HopPlan `json:"hops"`
}

// HopPlan is one hop of an UpgradePlan, from the builds of its two releases (objects by
// Kind.group/namespace/name; Changed: in both builds, with other content).
type HopPlan struct {
	From       string       `json:"from"`
	To         string       `json:"to"`
	Migrations []Migration  `json:"migrations,omitempty"`
	Created    []string     `json:"created"`
	Changed    []string     `json:"changed"`
	Pruned     []string     `json:"pruned"`
	Kept       []KeptObject `json:"kept,omitempty"`
	Notes      []string     `json:"notes,omitempty"`
}

// KeptObject is an object a hop's prune keeps, and why.
type KeptObject struct {
	Object string `json:"object"`
	Why    string `json:"why"`
}

// MarshalJSON writes a migration as its name, source and when it runs ("before" or "after" the
// hop's apply).
func (m Migration) MarshalJSON() ([]byte, error) {
	when := "before"
	if m.AfterApply {
		when = "after"
	}
	return json.Marshal(map[string]string{"name": m.Name, "source": m.Source, "when": when})
}

// PlanUpgrade (after Section.Prepare) builds the installed release and every release of the hops Prepare found (the target with
// the manifests given, the others from the mirror or GitHub), all with the spec's edits, and
// compares each hop's two builds; what a prune would keep is asked of the cluster as the run
// would ask it. It changes nothing.
func PlanUpgrade(ctx context.Context, r *section.Run, spec *Spec) (*UpgradePlan, error) {
	up := spec.upgrade
	if up == nil {
		return nil, fmt.Errorf("kubeflow: --plan needs the cluster: no installed release was read")
	}
	plan := &UpgradePlan{Installed: up.installed.Version, FoundBy: up.installed.How, Target: up.target, Hops: []HopPlan{}}
	if len(up.hops) == 0 {
		return plan, nil
	}
	build := func(version string, s *Spec) (map[string]*unstructured.Unstructured, error) {
		p, err := ProfileFor(version)
		if err != nil {
			return nil, err
		}
		b, err := BuildFor(ctx, r.Clients, r.Progress, p, s)
		if err != nil {
			return nil, err
		}
		objs := map[string]*unstructured.Unstructured{}
		for _, o := range b.Objects {
			objs[kube.Ref(o)] = o
		}
		return objs, nil
	}
	from, err := build(up.hops[0].From, hopSpec(spec))
	if err != nil {
		return nil, err
	}
	k := &keeper{c: r.Clients}
	for i, h := range up.hops {
		s := hopSpec(spec)
		if i == len(up.hops)-1 {
			s = spec
		}
		to, err := build(h.To, s)
		if err != nil {
			return nil, err
		}
		hp := HopPlan{From: h.From, To: h.To, Migrations: h.Migrations, Notes: h.Notes, Created: []string{}, Changed: []string{}, Pruned: []string{}}
		for ref, o := range to {
			old, ok := from[ref]
			switch {
			case !ok:
				hp.Created = append(hp.Created, ref)
			case !sameContent(old, o):
				hp.Changed = append(hp.Changed, ref)
			}
		}
		for ref, o := range from {
			if _, ok := to[ref]; ok {
				continue
			}
			why, keep, err := k.keep(ctx, o.GetKind(), o.GetNamespace(), o.GetName())
			if err != nil {
				return nil, err
			}
			if keep {
				hp.Kept = append(hp.Kept, KeptObject{Object: ref, Why: why})
				if !copies(h) || !servesMinio(o) {
					to[ref] = o // still a member at the next hop
				}
				continue
			}
			hp.Pruned = append(hp.Pruned, ref)
		}
		sort.Strings(hp.Created)
		sort.Strings(hp.Changed)
		sort.Strings(hp.Pruned)
		sort.Slice(hp.Kept, func(a, b int) bool { return hp.Kept[a].Object < hp.Kept[b].Object })
		plan.Hops = append(plan.Hops, hp)
		from = to
	}
	return plan, nil
}

// sameContent tells whether two built objects hold the same content.
func sameContent(a, b *unstructured.Unstructured) bool {
	ja, err1 := json.Marshal(a.Object)
	jb, err2 := json.Marshal(b.Object)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// copies tells whether hop h copies the artifacts to SeaweedFS (which then deletes minio).
func copies(h Hop) bool {
	return slices.ContainsFunc(h.Migrations, func(m Migration) bool { return m.Name == copyArtifacts.Name })
}

// servesMinio tells minio's Deployment and AuthorizationPolicy, which the artifact copy deletes.
func servesMinio(o *unstructured.Unstructured) bool {
	return o.GetNamespace() == "kubeflow" && (o.GetKind() == "Deployment" && o.GetName() == minioStore.Workload.Name ||
		o.GetKind() == "AuthorizationPolicy" && o.GetName() == minioPolicy)
}
