package kubeflow

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/distro"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Findings are what preflight found: Errors stop the install before any change (exit 2),
// Warnings are printed and the install goes on.
type Findings struct {
	Errors   []string
	Warnings []string
	// CSRSigned: the CSR-signing probe ran and a certificate was issued.
	CSRSigned bool
}

// Err is the usage error listing every blocking finding, or nil.
func (f *Findings) Err(p Profile) error {
	if len(f.Errors) == 0 {
		return nil
	}
	return core.UsageErrorf("kubeflow %s preflight failed, nothing was changed:\n  - %s", p.Version, strings.Join(f.Errors, "\n  - "))
}

// Preflight checks, before any change, that the cluster can take the build: every kind is
// served (or defined by a CRD of the build), a default StorageClass exists, no CRD of the build
// drops a version the cluster still stores objects in (an upgrade the API server would stop half
// way), CSR signing works, and (a warning) the nodes can fit the requests. csrTimeout 0 skips
// the CSR probe.
func Preflight(ctx context.Context, c *kube.Clients, b *Built, csrTimeout time.Duration) (*Findings, error) {
	f := &Findings{}
	// The CSR probe waits for the controller-manager; the other checks run meanwhile.
	type probe struct {
		signed bool
		err    error
	}
	csr := make(chan probe, 1)
	if csrTimeout > 0 {
		go func() {
			signed, err := kube.ProbeCSRSigning(ctx, c.Client, csrTimeout)
			csr <- probe{signed, err}
		}()
	}
	minor := 0
	if s, err := versions.Read(c.Discovery); err == nil {
		minor = s.Minor
	}
	if minor > 0 && minor < versions.CELMinor {
		if err := b.CompleteAll(); err != nil { // the CEL check reads the schemas
			return nil, err
		}
	}
	if problems := kube.APIProblems(c.Discovery, minor, b.Objects); len(problems) > 0 {
		for _, p := range problems {
			f.Errors = append(f.Errors, fmt.Sprintf("%s; Kubeflow %s installs on Kubernetes %s (leave --version out for the release that fits this cluster; `kubectl flexigrobots releases` lists them)", p, b.Profile.Version, installsOn(b.Profile.Version)))
		}
	}
	if err := defaultClass(ctx, c); err != nil {
		f.Errors = append(f.Errors, err.Error())
	}
	// ApplySet as the converge's Applier has it: the record's hashes are of objects labelled so.
	dropped, err := (&kube.Applier{Clients: c, Section: Name, ApplySet: true}).DroppedStoredVersions(ctx, b.Objects)
	if err != nil {
		return nil, err
	}
	f.Errors = append(f.Errors, dropped...)
	if w := capacity(ctx, c, b.Objects); w != "" {
		f.Warnings = append(f.Warnings, w)
	}
	if csrTimeout > 0 {
		p := <-csr
		switch {
		case p.err != nil && !apierrors.IsForbidden(p.err):
			return nil, p.err
		case p.err != nil:
			f.Warnings = append(f.Warnings, "cannot probe CSR signing: "+p.err.Error())
		case p.signed:
			f.CSRSigned = true
		default:
			f.Errors = append(f.Errors, fmt.Sprintf("CertificateSigningRequests are not signed (the %s build has workloads that need it: %s): %s", b.Profile.Version, strings.Join(CSRClients(b.Objects), ", "), distro.SigningFix(distro.Detect(ctx, c.Client))))
		}
	}
	return f, nil
}

// installsOn is where the version installs, from the version matrix ("" when not in it).
func installsOn(version string) string {
	if r, ok := versions.Kubeflow.Release(version); ok {
		return r.InstallsOn()
	}
	return "(not in the version matrix)"
}

func defaultClass(ctx context.Context, c *kube.Clients) error {
	list, err := c.Client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("cannot list StorageClasses: %v", err)
	}
	for _, sc := range list.Items {
		for _, a := range []string{"storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"} {
			if sc.Annotations[a] == "true" {
				return nil
			}
		}
	}
	return fmt.Errorf("no default StorageClass: the PersistentVolumeClaims of katib-mysql, minio and mysql would stay Pending; install one with `kubectl flexigrobots storage --nfs-server HOST --nfs-path /exported/dir`")
}

// capacity compares the workloads' CPU and memory requests with the nodes' allocatable.
func capacity(ctx context.Context, c *kube.Clients, objs []*unstructured.Unstructured) string {
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	var allocCPU, allocMem, cpu, mem resource.Quantity
	for _, n := range nodes.Items {
		allocCPU.Add(n.Status.Allocatable["cpu"])
		allocMem.Add(n.Status.Allocatable["memory"])
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment", "StatefulSet":
		default:
			continue
		}
		replicas, found, _ := unstructured.NestedInt64(o.Object, "spec", "replicas")
		if !found {
			replicas = 1
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for _, ct := range containers {
			req, _, _ := unstructured.NestedMap(ct.(map[string]any), "resources", "requests")
			for i := int64(0); i < replicas; i++ {
				if q, err := resource.ParseQuantity(fmt.Sprint(req["cpu"])); err == nil && req["cpu"] != nil {
					cpu.Add(q)
				}
				if q, err := resource.ParseQuantity(fmt.Sprint(req["memory"])); err == nil && req["memory"] != nil {
					mem.Add(q)
				}
			}
		}
	}
	if cpu.Cmp(allocCPU) > 0 || mem.Cmp(allocMem) > 0 {
		return fmt.Sprintf("the workloads request %s CPU and %s memory but the %d nodes can allocate %s CPU and %s memory: some pods may stay Pending (add nodes or resources)",
			cpu.String(), mem.String(), len(nodes.Items), allocCPU.String(), allocMem.String())
	}
	return ""
}
