// Package storage is the runbook section "Installing a StorageClass": the
// nfs-subdir-external-provisioner chart, its StorageClass as the only default class, the
// runbook's test claim and pod, and the /etc/exports lines the NFS server needs. No cobra here:
// the command lives in pkg/plugin/storage.
package storage

import (
	"context"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// installer applies the section's steps under one Run.
type installer struct{ *section.Run }

// install installs or upgrades the chart (creating the namespace) and, when s is the default,
// demotes every other default StorageClass. The report has one line per release or object and
// says which classes were demoted.
func (in installer) install(ctx context.Context, s *Spec) (*output.Report, error) {
	rep := &output.Report{}
	release := releaseSpec(s)
	release.Wait, release.Timeout, release.DryRun = in.Wait, core.Budget(ctx, in.Timeout), in.DryRun
	res, _, err := in.Helm.Ensure(ctx, release)
	if err != nil {
		return rep, core.Wrapf(err, "storage")
	}
	rep.Add(res)
	if !s.isDefault() {
		rep.Notes = append(rep.Notes, fmt.Sprintf("StorageClass %s left as it is (--no-default): other default classes were not touched", s.StorageClass))
		return rep, nil
	}
	demoted, err := in.demoteOthers(ctx, s.StorageClass)
	rep.Add(demoted...)
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// releaseSpec is the provisioner's release as s wants it (without the run's wait and dry run).
func releaseSpec(s *Spec) helm.Spec {
	return helm.Spec{ReleaseName: ReleaseName, Namespace: s.ReleaseNamespace, ChartName: ChartName,
		Chart: s.Chart, Values: s.values(), CreateNamespace: true, Images: s.Registry}
}

// demoteOthers sets both default-class annotations to "false" on every default StorageClass
// other than keep, by server-side apply of just those annotations (taking them over from whoever
// set them). A class already demoted is not touched, so a rerun writes nothing.
func (in installer) demoteOthers(ctx context.Context, keep string) ([]output.Result, error) {
	list, err := in.Clients.Client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: list StorageClasses: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, sc := range list.Items {
		if sc.Name == keep || !cluster.IsDefaultClass(sc) {
			continue
		}
		objs = append(objs, demotion(sc))
	}
	if len(objs) == 0 {
		return nil, nil
	}
	a := &kube.Applier{Clients: in.Clients, ForceConflicts: true, NoManagedByLabel: true, DryRun: in.DryRun, Progress: in.Progress, Section: Name}
	if a.DryRun == "" {
		a.DryRun = core.DryRunNone
	}
	rep, err := a.Apply(ctx, objs)
	var out []output.Result
	for _, r := range rep.Results {
		r.Detail = fmt.Sprintf("demoted: no longer the default StorageClass, %s is", keep)
		out = append(out, r)
		verb := "demoted it"
		if in.DryRun.Active() {
			verb = "would demote it (dry run)"
		}
		in.Progress.Logf("storage: StorageClass %s is a default class too; %s so that %s is the only default", r.Name, verb, keep)
	}
	if err != nil {
		return out, fmt.Errorf("storage: demote the other default StorageClasses: %w", err)
	}
	return out, nil
}

// demotion is the apply configuration that demotes sc: its name and both annotations "false".
func demotion(sc storagev1.StorageClass) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("storage.k8s.io/v1")
	u.SetKind("StorageClass")
	u.SetName(sc.Name)
	u.SetAnnotations(map[string]string{cluster.DefaultClassAnnotation: "false", cluster.BetaDefaultClassAnnotation: "false"})
	return u
}
