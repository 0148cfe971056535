package tls

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// installer converges the platform's TLS within the context's budget (section.Apply's).
type installer struct {
	clients  *kube.Clients
	progress *output.Progress
	dryRun   core.DryRunStrategy
	// wait for the ACME Certificate to be Ready (and, on Kubeflow v1.5, authservice to restart).
	wait bool
	// forceConflicts: --force-conflicts.
	forceConflicts bool
}

func newInstaller(r *section.Run) *installer {
	return &installer{clients: r.Clients, progress: r.Progress, dryRun: r.DryRun, wait: r.Wait, forceConflicts: r.ForceConflicts}
}

// converge records spec's state, applies the certificate objects, the Gateway's HTTPS server and
// (ACME) the challenge exclusion, restarts authservice when its allow-list changed (v1.5), then
// waits. spec is prepared: its state resolved, the manual certificate loaded.
func (in *installer) converge(ctx context.Context, spec *Spec) (*output.Report, error) {
	rep := &output.Report{}
	st := spec.state
	in.progress.Update("tls: reading Kubeflow's gateway and auth objects")
	sh, err := in.preflight(ctx, st)
	if err != nil {
		return rep, err
	}
	prev, err := ingress.LoadState(ctx, in.clients.Client)
	if err != nil {
		return rep, err
	}
	record, err := ingress.StateObject(st)
	if err != nil {
		return rep, err
	}
	// The record first: whatever happens next, `kubeflow` renders the same Gateway and
	// `tls status` reports what is half done.
	if err := in.apply(ctx, rep, record); err != nil {
		return rep, err
	}
	var objs []*unstructured.Unstructured
	if st.Mode == ingress.ACME {
		objs = append(objs, issuer(st, spec.ACME.Email), certificate(st))
	} else {
		objs = append(objs, manualSecret(st, spec.certPEM, spec.keyPEM))
	}
	notes, err := ingress.Render(sh.Objects, st)
	if err != nil {
		return rep, err
	}
	objs = append(objs, sh.Objects...)
	if err := in.apply(ctx, rep, objs...); err != nil {
		return rep, err
	}
	rep.Notes = append(rep.Notes, notes...)
	if err := in.prune(ctx, rep, prev, st); err != nil {
		return rep, err
	}
	if err := in.restartAuthservice(ctx, rep, sh); err != nil {
		return rep, err
	}
	if in.dryRun.Active() {
		return rep, nil
	}
	if in.wait {
		if err := in.waitFor(ctx, st, sh); err != nil {
			return rep, err
		}
	}
	rep.Notes = append(rep.Notes, "HTTPS: "+Describe(st))
	if st.Mode == ingress.ACME {
		rep.Notes = append(rep.Notes, fmt.Sprintf("authentication stays on for every path except %s (HTTP-01 tokens, answered by cert-manager's solver): renewals work unattended", ingress.ChallengePrefix))
	}
	return rep, nil
}

// remove goes back to HTTP only: the Gateway and allow-list as `kubeflow` renders them without
// TLS, then deletes what `tls` created and the record.
func (in *installer) remove(ctx context.Context) (*output.Report, error) {
	rep := &output.Report{}
	prev, err := ingress.LoadState(ctx, in.clients.Client)
	if err != nil {
		return rep, err
	}
	// Kubeflow gone (uninstalled first, as `delete -f` does): no Gateway to take HTTPS off, only
	// what tls created is left to delete.
	kubeflowGone, err := in.gatewayGone(ctx)
	if err != nil {
		return rep, err
	}
	sh := &Shared{}
	if !kubeflowGone {
		if sh, err = LoadShared(ctx, in.clients.Dynamic); err != nil {
			return rep, err
		}
		notes, err := ingress.Render(sh.Objects, nil)
		if err != nil {
			return rep, err
		}
		if err := in.apply(ctx, rep, sh.Objects...); err != nil {
			return rep, err
		}
		rep.Notes = append(rep.Notes, notes...)
	} else if prev != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("Kubeflow's Gateway %s/%s is gone: only what tls created is deleted", ingress.GatewayNamespace, ingress.GatewayName))
	}
	if err := in.prune(ctx, rep, prev, nil); err != nil {
		return rep, err
	}
	if prev != nil {
		if err := in.delete(ctx, rep, ConfigMapsGVR, "ConfigMap", ingress.IstioNamespace, ingress.StateName); err != nil {
			return rep, err
		}
	}
	if err := in.restartAuthservice(ctx, rep, sh); err != nil {
		return rep, err
	}
	if prev == nil && !rep.Changed() {
		rep.Notes = append(rep.Notes, "TLS is not configured: nothing to uninstall")
	}
	if in.wait && !in.dryRun.Active() && restarted(rep) {
		return rep, in.waitAuthservice(ctx)
	}
	return rep, nil
}

// gatewayGone tells whether Kubeflow's Gateway is absent (or its kind not served).
func (in *installer) gatewayGone(ctx context.Context) (bool, error) {
	_, err := get(ctx, in.clients.Dynamic, sharedRef{GatewaysGVR, "Gateway", ingress.GatewayNamespace, ingress.GatewayName})
	if apierrors.IsNotFound(err) || isNotServed(err) {
		return true, nil
	}
	return false, err
}

// preflight: Kubeflow installed by us, and cert-manager serving its kinds for ACME.
func (in *installer) preflight(ctx context.Context, st *ingress.State) (*Shared, error) {
	sh, err := LoadShared(ctx, in.clients.Dynamic)
	if err != nil {
		return nil, err
	}
	if st.Mode == ingress.ACME {
		for _, gvr := range []struct{ gvr, what string }{{"clusterissuers", "ClusterIssuer"}, {"certificates", "Certificate"}} {
			if _, err := in.clients.Mapper.KindFor(CertificatesGVR.GroupVersion().WithResource(gvr.gvr)); err != nil {
				return nil, core.UsageErrorf("cert-manager is not installed (no %s kind): it comes with Kubeflow, run `kubectl flexigrobots kubeflow` first", gvr.what)
			}
		}
	}
	return sh, nil
}

func (in *installer) apply(ctx context.Context, rep *output.Report, objs ...*unstructured.Unstructured) error {
	a := &kube.Applier{Clients: in.clients, DryRun: in.dryRun, Progress: in.progress, Section: Name, TakeBack: true, ForceConflicts: in.forceConflicts}
	applied, err := a.Apply(ctx, objs)
	rep.Add(applied.Results...)
	return err
}

// prune deletes what prev created that st no longer has (all of it when st is nil).
func (in *installer) prune(ctx context.Context, rep *output.Report, prev, st *ingress.State) error {
	if prev == nil {
		return nil
	}
	var errs []error
	del := func(gvr schema.GroupVersionResource, kind, ns, name string) {
		errs = append(errs, in.delete(ctx, rep, gvr, kind, ns, name))
	}
	if prev.Mode == ingress.ACME {
		if st == nil || st.Certificate != prev.Certificate {
			del(CertificatesGVR, "Certificate", ingress.IstioNamespace, prev.Certificate)
		}
		if st == nil || st.Issuer != prev.Issuer {
			del(ClusterIssuersGVR, "ClusterIssuer", "", prev.Issuer)
			del(SecretsGVR, "Secret", acmeAccountNamespace, prev.Issuer) // its ACME account key
		}
	}
	if st == nil || st.SecretName != prev.SecretName {
		del(SecretsGVR, "Secret", ingress.IstioNamespace, prev.SecretName)
	}
	return errors.Join(errs...)
}

// delete removes one object and reports it; absent is fine.
func (in *installer) delete(ctx context.Context, rep *output.Report, gvr schema.GroupVersionResource, kind, ns, name string) error {
	ri := in.clients.Dynamic.Resource(gvr).Namespace(ns)
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || isNotServed(err) {
		return nil
	}
	res := output.Result{Kind: kind, Namespace: ns, Name: name, Action: output.Deleted}
	opts := metav1.DeleteOptions{}
	switch in.dryRun {
	case core.DryRunClient:
		res.DryRun = in.dryRun
		rep.Add(res)
		return nil
	case core.DryRunServer:
		res.DryRun = in.dryRun
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := ri.Delete(ctx, name, opts); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("tls: delete %s %s: %w", kind, name, err)
	}
	if in.dryRun == core.DryRunServer && live != nil {
		in.clients.Diff.Record(live, nil)
	}
	rep.Add(res)
	return nil
}

// restartAuthservice restarts authservice (v1.5) when this run changed its allow-list: it reads
// SKIP_AUTH_URI at start-up only. Like `kubectl rollout restart`, it stamps the pod template.
func (in *installer) restartAuthservice(ctx context.Context, rep *output.Report, sh *Shared) error {
	if sh.Flavor != Authservice || !configured(rep, "ConfigMap", ingress.AuthserviceParams) {
		return nil
	}
	res := output.Result{Kind: "StatefulSet", Namespace: ingress.IstioNamespace, Name: ingress.AuthserviceName, Action: "restarted", Detail: "reads SKIP_AUTH_URI at start-up"}
	if in.dryRun.Active() {
		res.DryRun = in.dryRun
		rep.Add(res)
		return nil
	}
	w := kube.Target{GVR: kube.StatefulSetsGVR, Namespace: ingress.IstioNamespace, Name: ingress.AuthserviceName}
	if _, err := in.clients.RolloutRestart(ctx, w); err != nil {
		return fmt.Errorf("tls: it must re-read SKIP_AUTH_URI: %w", err)
	}
	rep.Add(res)
	return nil
}

func configured(rep *output.Report, kind, name string) bool {
	for _, r := range rep.Results {
		if r.Kind == kind && r.Name == name && (r.Action == output.Configured || r.Action == output.Created) {
			return true
		}
	}
	return false
}

func restarted(rep *output.Report) bool {
	for _, r := range rep.Results {
		if r.Action == "restarted" {
			return true
		}
	}
	return false
}
