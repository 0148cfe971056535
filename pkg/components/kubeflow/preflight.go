package kubeflow

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
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
	missing := unservedKinds(c, b.Objects)
	if len(missing) > 0 {
		msg := "these API kinds of the build are not served by this cluster: " + strings.Join(missing, ", ")
		if b.Profile.MaxKube != "" {
			msg += fmt.Sprintf("; Kubeflow %s needs Kubernetes <= %s (the runbook's cluster): on a newer cluster use --version v1.10.2", b.Profile.Version, b.Profile.MaxKube)
		} else {
			msg += fmt.Sprintf("; on Kubernetes <= 1.21 (the runbook's cluster) use --version %s, or leave --version out", RunbookVersion)
		}
		f.Errors = append(f.Errors, msg)
	}
	if err := defaultClass(ctx, c); err != nil {
		f.Errors = append(f.Errors, err.Error())
	}
	dropped, err := (&kube.Applier{Clients: c, Section: Name}).DroppedStoredVersions(ctx, b.Objects)
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
			f.Errors = append(f.Errors, "CertificateSigningRequests are not signed (Kubeflow's webhooks need it): on RKE add to kube-controller extra_args cluster-signing-cert-file: /etc/kubernetes/ssl/kube-ca.pem and cluster-signing-key-file: /etc/kubernetes/ssl/kube-ca-key.pem (runbook: cluster creation)")
		}
	}
	return f, nil
}

// unservedKinds lists group/version kinds neither served nor defined by a CRD of the build.
func unservedKinds(c *kube.Clients, objs []*unstructured.Unstructured) []string {
	fromCRDs := map[schema.GroupVersionKind]bool{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			continue
		}
		gk := kube.CRDGroupKind(o)
		versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
		for _, v := range versions {
			if name, _ := v.(map[string]any)["name"].(string); name != "" {
				fromCRDs[gk.WithVersion(name)] = true
			}
		}
		if v, _, _ := unstructured.NestedString(o.Object, "spec", "version"); v != "" {
			fromCRDs[gk.WithVersion(v)] = true
		}
	}
	served := map[string]map[string]bool{}
	count := map[string]int{}
	for _, o := range objs {
		gvk := o.GroupVersionKind()
		if fromCRDs[gvk] {
			continue
		}
		gv := gvk.GroupVersion().String()
		kinds, ok := served[gv]
		if !ok {
			kinds = map[string]bool{}
			// An error means the group version is not served (the cached discovery client does not
			// return a typed NotFound); an unreachable server fails the other checks anyway.
			list, err := c.Discovery.ServerResourcesForGroupVersion(gv)
			if err == nil && list != nil {
				for _, r := range list.APIResources {
					kinds[r.Kind] = true
				}
			}
			served[gv] = kinds
		}
		if !kinds[gvk.Kind] {
			count[gv+" "+gvk.Kind]++
		}
	}
	out := make([]string, 0, len(count))
	for k, n := range count {
		out = append(out, fmt.Sprintf("%s (%d)", k, n))
	}
	sort.Strings(out)
	return out
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
