package storage

// The checks of section "storage": the nfs-subdir-external-provisioner is running, its
// StorageClass exists with the provisioner's name, that class is the only default, and the
// section's pods pull from the imageRegistry it was applied with. The provisioners are found by
// their Deployments (container env PROVISIONER_NAME, as the chart renders it), so the checks
// need no flags.

import (
	"cmp"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
)

// Name is the section's name: its block in the platform file, --only/--skip, and what `verify
// --section` selects.
const Name = "storage"

// DeploymentsGVR is listed to find the provisioners.
var DeploymentsGVR = appsv1.SchemeGroupVersion.WithResource("deployments")

// ImageName is the provisioner's image name (any registry, any tag).
const ImageName = "nfs-subdir-external-provisioner"

const install = "run `kubectl flexigrobots storage --nfs-server HOST --nfs-path /exported/dir`"

// Provisioner is one nfs-subdir-external-provisioner Deployment and the settings it runs with.
type Provisioner struct {
	Namespace, Deployment string
	// Name is the provisioner name (env PROVISIONER_NAME), what its StorageClass names.
	Name           string
	Server, Path   string
	Ready, Desired int32
}

// Provisioners returns the nfs-subdir-external-provisioner Deployments among deps.
func Provisioners(deps []appsv1.Deployment) []Provisioner {
	var out []Provisioner
	for _, d := range deps {
		for _, c := range d.Spec.Template.Spec.Containers {
			if !strings.Contains(c.Image, ImageName) {
				continue
			}
			p := Provisioner{Namespace: d.Namespace, Deployment: d.Name, Ready: d.Status.ReadyReplicas, Desired: 1}
			if d.Spec.Replicas != nil {
				p.Desired = *d.Spec.Replicas
			}
			for _, e := range c.Env {
				switch e.Name {
				case "PROVISIONER_NAME":
					p.Name = e.Value
				case "NFS_SERVER":
					p.Server = e.Value
				case "NFS_PATH":
					p.Path = e.Value
				}
			}
			if p.Name != "" {
				out = append(out, p)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace+"/"+out[i].Deployment < out[j].Namespace+"/"+out[j].Deployment
	})
	return out
}

// Checks returns the storage checks in ID order.
func Checks() []checks.Check {
	deps := []schema.GroupVersionResource{DeploymentsGVR}
	both := []schema.GroupVersionResource{DeploymentsGVR, cluster.StorageClassesGVR}
	return []checks.Check{
		{ID: "STORAGE-001", Section: Name, Title: "NFS provisioner Deployment ready", Severity: checks.Error, Resources: deps, Run: provisionerReady},
		{ID: "STORAGE-002", Section: Name, Title: "NFS StorageClass exists with the provisioner's name", Severity: checks.Error, Resources: both, Run: classExists},
		{ID: "STORAGE-003", Section: Name, Title: "NFS StorageClass is the only default", Severity: checks.Error, Resources: both, Run: onlyDefault},
		cluster.ImageRegistryCheck(Name, "STORAGE-004", registryNamespaces, DeploymentsGVR),
	}
}

// registryNamespaces are where the section's pods run (STORAGE-004): the recorded release
// namespace (DefaultNamespace when the block leaves it out) and those of the provisioner
// Deployments found.
func registryNamespaces(s *checks.Snapshot, block []byte) ([]string, error) {
	ns, err := cluster.BlockString(block, "releaseNamespace")
	if err != nil {
		return nil, err
	}
	deps, err := checks.ListAs[appsv1.Deployment](s, DeploymentsGVR)
	if err != nil {
		return nil, err
	}
	out := []string{cmp.Or(ns, DefaultNamespace)}
	for _, p := range Provisioners(deps) {
		out = append(out, p.Namespace)
	}
	return out, nil
}

func provisioners(s *checks.Snapshot) ([]Provisioner, *checks.Result) {
	deps, err := checks.ListAs[appsv1.Deployment](s, DeploymentsGVR)
	if err != nil {
		r := checks.CannotEvaluate(err, "the caller needs list on deployments.apps in all namespaces (see CLUSTER-005)")
		return nil, &r
	}
	ps := Provisioners(deps)
	if len(ps) == 0 {
		r := checks.NotInstalled("no nfs-subdir-external-provisioner Deployment in any namespace", install)
		return nil, &r
	}
	return ps, nil
}

func provisionerReady(s *checks.Snapshot) []checks.Result {
	ps, fail := provisioners(s)
	if fail != nil {
		return []checks.Result{*fail}
	}
	var rs []checks.Result
	for _, p := range ps {
		ref := p.Namespace + "/" + p.Deployment
		if p.Ready < p.Desired || p.Desired == 0 {
			rs = append(rs, checks.Fail(fmt.Sprintf("Deployment %s: %d/%d replicas ready (provisioner %s, NFS %s:%s)", ref, p.Ready, p.Desired, p.Name, p.Server, p.Path),
				fmt.Sprintf("look at its pod: kubectl describe pod -n %s -l app=nfs-subdir-external-provisioner (a mount error means the NFS server does not export %s to the node: see `kubectl flexigrobots storage exports --nfs-path %s`)", p.Namespace, p.Path, p.Path)))
			continue
		}
		rs = append(rs, checks.Pass("Deployment %s ready (%d/%d), provisioner %s, NFS %s:%s", ref, p.Ready, p.Desired, p.Name, p.Server, p.Path))
	}
	return rs
}

// nfsClasses returns the StorageClasses whose provisioner is one of ps.
func nfsClasses(s *checks.Snapshot, ps []Provisioner) ([]storagev1.StorageClass, []storagev1.StorageClass, *checks.Result) {
	all, err := checks.ListAs[storagev1.StorageClass](s, cluster.StorageClassesGVR)
	if err != nil {
		r := checks.CannotEvaluate(err, "the caller needs list on storageclasses.storage.k8s.io (see CLUSTER-005)")
		return nil, nil, &r
	}
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Name] = true
	}
	var nfs []storagev1.StorageClass
	for _, sc := range all {
		if names[sc.Provisioner] {
			nfs = append(nfs, sc)
		}
	}
	return nfs, all, nil
}

func classExists(s *checks.Snapshot) []checks.Result {
	ps, fail := provisioners(s)
	if fail != nil {
		return []checks.Result{*fail}
	}
	nfs, _, fail := nfsClasses(s, ps)
	if fail != nil {
		return []checks.Result{*fail}
	}
	var rs []checks.Result
	for _, p := range ps {
		var classes []string
		for _, sc := range nfs {
			if sc.Provisioner == p.Name {
				classes = append(classes, sc.Name)
			}
		}
		if len(classes) == 0 {
			rs = append(rs, checks.Fail(fmt.Sprintf("no StorageClass has provisioner %s (Deployment %s/%s): its claims would never be provisioned", p.Name, p.Namespace, p.Deployment),
				install+" (the chart creates the class; with storageClass.create=false create one with provisioner: "+p.Name+")"))
			continue
		}
		sort.Strings(classes)
		rs = append(rs, checks.Pass("StorageClass %s: provisioner %s", strings.Join(classes, ", "), p.Name))
	}
	return rs
}

func onlyDefault(s *checks.Snapshot) []checks.Result {
	ps, fail := provisioners(s)
	if fail != nil {
		return []checks.Result{*fail}
	}
	nfs, all, fail := nfsClasses(s, ps)
	if fail != nil {
		return []checks.Result{*fail}
	}
	isNFS := map[string]bool{}
	for _, sc := range nfs {
		isNFS[sc.Name] = true
	}
	var defaults []string
	nfsDefault := ""
	for _, sc := range all {
		if cluster.IsDefaultClass(sc) {
			defaults = append(defaults, sc.Name)
			if isNFS[sc.Name] {
				nfsDefault = sc.Name
			}
		}
	}
	sort.Strings(defaults)
	switch {
	case len(defaults) == 1 && nfsDefault != "":
		return []checks.Result{checks.Pass("%s is the only default StorageClass", nfsDefault)}
	case nfsDefault == "":
		found := "no default StorageClass"
		if len(defaults) > 0 {
			found = "default: " + strings.Join(defaults, ", ")
		}
		return []checks.Result{checks.Fail("no NFS StorageClass is the default ("+found+"); Kubeflow's claims name no class and would not use NFS",
			install+" (without --no-default): it marks the NFS class default and demotes the others")}
	}
	return []checks.Result{checks.Fail(fmt.Sprintf("%d default StorageClasses: %s; a claim without storageClassName gets an unpredictable one", len(defaults), strings.Join(defaults, ", ")),
		install+": it demotes every other default class")}
}
