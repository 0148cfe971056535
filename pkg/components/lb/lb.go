// Package lb is the runbook section "Installing MetalLB": the MetalLB chart, then an
// IPAddressPool and an L2Advertisement (metallb.io/v1beta1) applied once MetalLB's validating
// webhook can answer, the kube-proxy strictARP prerequisite of IPVS mode, a LoadBalancer probe,
// and the checks of section "lb". It holds the desired state and the steps; the cobra command is
// pkg/plugin/lb.
package lb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Defaults of the runbook.
const (
	ChartName        = "metallb"
	DefaultChartRepo = "https://metallb.github.io/metallb"
	DefaultRelease   = "metallb"
	DefaultNamespace = "metallb-system"
	DefaultPool      = "ai-platform-pool"
	DefaultL2        = "ai-platform"
	// WebhookService is the Service of MetalLB's validating webhook (fixed name in the chart).
	WebhookService = "metallb-webhook-service"
	// PoolAnnotation asks MetalLB for an IP from a named pool.
	PoolAnnotation = "metallb.io/address-pool"
)

// MetalLB's resources.
var (
	IPAddressPoolsGVR    = schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "ipaddresspools"}
	L2AdvertisementsGVR  = schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "l2advertisements"}
	BGPAdvertisementsGVR = schema.GroupVersionResource{Group: "metallb.io", Version: "v1beta1", Resource: "bgpadvertisements"}
)

// Installer runs the steps of the section against one cluster.
type Installer struct {
	Clients  *kube.Clients
	Helm     *helm.Client
	Progress *output.Progress
}

// releaseSpec is MetalLB's release as s wants it (without the run's budget, dry run and CRDs).
func releaseSpec(s *Spec) helm.Spec {
	return helm.Spec{ReleaseName: s.ReleaseName, Namespace: s.ReleaseNamespace, ChartName: ChartName, Chart: s.Chart, CreateNamespace: true, Images: s.Registry}
}

// Converge makes the cluster match s (validated, its chart version picked): kube-proxy strictARP
// (checked; fixed with FixStrictARP), the MetalLB release, its workloads ready, its webhook
// answering, then the pool and the L2Advertisement, within ctx (the section's budget). It is
// idempotent: a second run reports only `unchanged`.
func (in *Installer) Converge(ctx context.Context, r *section.Run, s *Spec) (*output.Report, error) {
	rep := &output.Report{}
	applier := &kube.Applier{Clients: in.Clients, DryRun: r.DryRun, Progress: in.Progress, Section: Name, TakeBack: true}
	release := releaseSpec(s)
	release.Timeout, release.DryRun = core.Budget(ctx, r.Timeout), r.DryRun
	release.ApplyCRDs = func(ctx context.Context, crds []*unstructured.Unstructured) error {
		// A server dry run of every CRD first: one the server refuses (CEL rules on
		// Kubernetes < 1.25) fails the run before any CRD is changed.
		dry := &kube.Applier{Clients: in.Clients, DryRun: core.DryRunServer, Section: Name, TakeBack: true}
		if _, err := dry.Apply(ctx, crds); err != nil {
			return fmt.Errorf("server dry run, nothing changed: %w", err)
		}
		_, err := applier.Apply(ctx, crds)
		return err
	}
	// The chart and values first: a bad --chart-version or --set is refused (exit 2) before
	// --fix-strict-arp edits kube-proxy.
	if err := in.Helm.Check(ctx, release); err != nil {
		return rep, core.Wrapf(err, "lb: MetalLB release %s/%s", s.ReleaseNamespace, s.ReleaseName)
	}
	if res, note, err := in.StrictARP(ctx, s.FixStrictARP, r.DryRun); err != nil {
		return rep, err
	} else {
		if res != nil {
			rep.Add(*res)
		}
		if note != "" {
			rep.Notes = append(rep.Notes, note)
		}
	}

	res, _, err := in.Helm.Ensure(ctx, release)
	if err != nil {
		if strings.Contains(err.Error(), "x-kubernetes-validations") {
			return rep, in.celError(res.Detail, err)
		}
		return rep, core.Wrapf(err, "lb: MetalLB release %s/%s", s.ReleaseNamespace, res.Name)
	}
	rep.Add(res)

	if !r.DryRun.Active() && r.Wait {
		w := &kube.Waiter{Clients: in.Clients, Progress: in.Progress, Label: "lb: MetalLB controller and speaker"}
		if err := w.Wait(ctx, kube.Workloads(s.ReleaseNamespace)); err != nil {
			return rep, fmt.Errorf("lb: waiting for MetalLB's controller and speaker in %s to be ready: %w", s.ReleaseNamespace, err)
		}
	}

	objs := Objects(s)
	results, err := in.applyConfig(ctx, r, s, objs)
	rep.Add(results...)
	return rep, err
}

// applyConfig applies the pool and the L2Advertisement as one apply set (kube.Applier.Prune:
// unless s.NoPrune, a pool or L2Advertisement an earlier run applied under another name is
// deleted). MetalLB's validating webhook intercepts them: through the engine's webhook gate, as
// in every section, a call that fails is announced and retried until the webhook answers (the
// controller starting), as long as ctx (the section's budget) lasts. An API server without
// webhook admission never calls it, so nothing waits there.
func (in *Installer) applyConfig(ctx context.Context, r *section.Run, s *Spec, objs []*unstructured.Unstructured) ([]output.Result, error) {
	applier := &kube.Applier{Clients: in.Clients, DryRun: r.DryRun, Progress: in.Progress, Section: Name, TakeBack: true, ForceConflicts: r.ForceConflicts, ApplySet: true, NoPrune: s.NoPrune}
	if r.DryRun.Active() {
		// Asked of the server, not of kubectl's discovery cache, which may still list the kind of
		// a cluster that was at the same address before.
		crd := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
		if _, err := in.Clients.Metadata.Resource(crd).Get(ctx, IPAddressPoolsGVR.Resource+"."+IPAddressPoolsGVR.Group, metav1.GetOptions{}); err != nil {
			// First run: MetalLB's CRDs are not installed, so the server cannot check the objects.
			in.Progress.Logf("lb: MetalLB's CRDs are not installed yet: the pool and L2Advertisement are shown as a client dry run")
			applier.DryRun = core.DryRunClient
			// Where that cache still maps their kinds, the engine forgets the mapping on the
			// server's 404 and shows them as created (kube.Applier: forgetStaleMapping).
		}
	}
	rep, err := applier.Apply(ctx, objs)
	if err == nil {
		return rep.Results, nil
	}
	what := "lb: apply the pool and L2Advertisement"
	var ae *kube.ApplyError
	if errors.As(err, &ae) && len(ae.Failed) > 0 {
		// Name the first object (the pool before its L2Advertisement) and its own reason.
		for _, o := range objs {
			if f := slices.IndexFunc(ae.Failed, func(f kube.ObjectError) bool { return f.Ref == kube.Ref(o) }); f >= 0 {
				what, err = fmt.Sprintf("lb: apply %s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName()), ae.Failed[f].Err
				break
			}
		}
	}
	if strings.Contains(err.Error(), "webhook") {
		state := "call failed"
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			// The gate retried for what the section's budget left.
			state = fmt.Sprintf("not ready when the section's timeout (%s) ran out", r.Timeout)
		case ctx.Err() != nil:
			state = "wait interrupted"
		}
		ns := s.ReleaseNamespace
		return rep.Results, fmt.Errorf("%s: webhook %s %s: %s: %w\n  the MetalLB controller serves it: kubectl -n %s get pods -l app.kubernetes.io/component=controller; kubectl -n %s get endpointslices -l kubernetes.io/service-name=%s",
			what, WebhookService, state, in.endpointState(ns), err, ns, ns, WebhookService)
	}
	return rep.Results, fmt.Errorf("%s: %w", what, err)
}

// endpointState says how many ready endpoints the webhook Service has, for error messages.
func (in *Installer) endpointState(namespace string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := kube.ServiceReadyEndpoints(ctx, in.Clients, namespace, WebhookService)
	switch {
	case err != nil:
		return "endpoints unknown (" + err.Error() + ")"
	case n == 0:
		return "no ready endpoints"
	}
	return fmt.Sprintf("%d ready endpoints but the call fails", n)
}

// celError explains a chart whose CRDs use CEL validation rules (x-kubernetes-validations, served
// from Kubernetes 1.25) on an older server, e.g. MetalLB 0.15 on the runbook's Kubernetes 1.21;
// helm's own message lists every rejected field.
func (in *Installer) celError(chart string, err error) error {
	server := "this server"
	if v, verr := in.Clients.Discovery.ServerVersion(); verr == nil {
		server = "Kubernetes " + v.GitVersion
	}
	msg := err.Error()
	if len(msg) > 400 {
		msg = msg[:400] + " ..."
	}
	return fmt.Errorf("lb: %s cannot be installed on %s: its CRDs use CEL validation rules (x-kubernetes-validations), which need Kubernetes >= 1.25; choose an older MetalLB chart whose CRDs have none with --chart-version, or upgrade the cluster. helm said: %s", chart, server, msg)
}
