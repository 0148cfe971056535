package kubeflow

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// upgradeChain is the order in which upstream supports upgrades in place, one release at a
// time (kubeflow/manifests README "Upgrading and Extending" at each tag: every note is written
// from the release before). v1.5.0 is not on it: Kubernetes 1.22 removed APIs it needs, and no
// release installs on both its Kubernetes and the next release's (see ReplatformPath).
var upgradeChain = []string{"v1.9.1", "v1.10.2", "v1.11.0", "26.03"}

// Hop is one release-to-release step of an upgrade, and the work upstream's upgrade notes ask for
// besides applying the next release.
type Hop struct {
	From, To string
	// Migrations run in order, before the hop's apply or after it (Migration.AfterApply).
	Migrations []Migration
	// Notes are what upstream says changes for users at this hop, for the plan and the report.
	Notes []string
}

// String is "v1.10.2 → v1.11.0".
func (h Hop) String() string { return h.From + " → " + h.To }

// UpgradePath returns the hops from the installed release to target: none when they are the same
// or nothing is installed. A target older than what is installed, an installed release off the
// upgrade chain (v1.5.0: ReplatformPath) or one the plugin does not know, and a hop whose release
// cannot install on the server are usage errors (exit 2) saying what to do; {version} names the
// entry point's field.
func UpgradePath(s versions.Server, in Installation, target string) ([]Hop, error) {
	if in.Unknown != "" {
		return nil, core.UsageErrorf("kubeflow: {version}: cannot upgrade from an unknown Kubeflow release (%s, no release of %s has it): upgrade it by hand to one of them first, or uninstall it",
			in.How, strings.Join(Versions(), ", "))
	}
	from := canonical(in.Version)
	to := canonical(target)
	if from == "" || from == to {
		return nil, nil
	}
	if from == RunbookVersion {
		return nil, core.UsageErrorf("kubeflow: {version}: Kubeflow %s is installed (%s) and cannot be upgraded in place to %s:\n%s", from, in.How, to, ReplatformPath)
	}
	i, j := slices.Index(upgradeChain, from), slices.Index(upgradeChain, to)
	if i < 0 || j < 0 {
		return nil, core.UsageErrorf("kubeflow: {version}: no upgrade path from %s to %s: upgrades go one release at a time along %s",
			from, to, strings.Join(upgradeChain, " → "))
	}
	if j < i {
		return nil, core.UsageErrorf("kubeflow: {version}: Kubeflow %s is installed (%s): %s is older, and upstream has no downgrade path (CRDs, stores and webhooks moved on); give --version %s or leave it out",
			from, in.How, to, from)
	}
	var hops []Hop
	for k := i; k < j; k++ {
		next := upgradeChain[k+1]
		if err := versions.Kubeflow.CheckGiven("version", s, next); err != nil {
			return nil, core.UsageErrorf("kubeflow: {version}: the upgrade %s → %s passes through %s, which installs on Kubernetes %s, not on this cluster's %s: upgrade Kubernetes first, or stop at a release before it",
				from, to, next, installsOn(next), s.Git)
		}
		hops = append(hops, hopFrom(upgradeChain[k], next))
	}
	return hops, nil
}

// canonical is version as the profiles spell it ("1.10.2" → "v1.10.2"), or as given when unknown.
func canonical(version string) string {
	if version == "" {
		return ""
	}
	if p, err := ProfileFor(version); err == nil {
		return p.Version
	}
	return version
}

// hopFrom is the hop from → to with what upstream's notes ask for (versions-matrix facts, 1e).
func hopFrom(from, to string) Hop {
	h := Hop{From: from, To: to}
	switch to {
	case "v1.10.2":
		h.Migrations = append(h.Migrations, rebindMetacontroller)
		h.Notes = append(h.Notes, "Istio CNI becomes the default and sidecars become native ones: running pods get them when they restart (kubeflow/manifests v1.10.2 README)")
	case "v1.11.0":
		h.Migrations = append(h.Migrations, copyArtifacts)
		h.Notes = append(h.Notes,
			"Kubeflow Pipelines' artifact store moves from MinIO to SeaweedFS and upstream copies nothing: the plugin's Job copies the artifacts, then minio goes; "+
				"the claim kubeflow/minio-pvc stays until you delete it (README: Upgrading)",
			"Training Operator v1 gives way to Trainer v2 (v1.11.0 example): while v1 jobs (TFJob, PyTorchJob, MPIJob, PaddleJob, XGBoostJob, JAXJob) exist, their CRDs and the v1 operator stay")
	case "26.03":
		h.Notes = append(h.Notes, "Service kubeflow/minio-service goes: clients of the artifact store use seaweedfs.kubeflow:9000 (kubeflow/manifests 26.03 README)",
			"Knative 1.21 needs Kubernetes 1.33 or later (checked before the hop)")
	}
	return h
}

// ReplatformPath is the way off the runbook's v1.5.0 on Kubernetes 1.21: no release installs on
// both 1.21 and what the next release needs, and RKE1 has no path to RKE2.
const ReplatformPath = `  Kubernetes 1.22 removed the v1beta1 APIs v1.5.0 needs, and every later release needs a newer
  Kubernetes than v1.5.0 runs on, so there is no in-place path (and RKE1 clusters cannot be upgraded to
  RKE2). Move to a new cluster:
    1. here:  kubectl flexigrobots export > users.yaml   (the users' Profiles, contributors, PodDefaults)
              kubectl flexigrobots export --platform > plugins.yaml   (drop kubeflow.version in it)
    2. there: kubectl flexigrobots apply -f plugins.yaml, then kubectl apply -f users.yaml
    3. copy the data (the pipelines' MySQL and minio claims, the users' notebook volumes); README: Upgrading.`

// String lists the hops as "v1.10.2 → v1.11.0 → 26.03".
func pathString(hops []Hop) string {
	if len(hops) == 0 {
		return ""
	}
	parts := []string{hops[0].From}
	for _, h := range hops {
		parts = append(parts, h.To)
	}
	return strings.Join(parts, " → ")
}

// hopLabel is "hop 2 of 3 (v1.10.2 → v1.11.0)".
func hopLabel(i, n int, h Hop) string { return fmt.Sprintf("hop %d of %d (%s)", i+1, n, h) }
