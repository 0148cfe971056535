package kubeflow

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/ingress"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Installer converges a build onto the cluster.
type Installer struct {
	Clients  *kube.Clients
	Progress *output.Progress
	// DryRun is core.DryRunNone, DryRunClient or DryRunServer.
	DryRun core.DryRunStrategy
	// Wait for every workload of the profile's namespaces, within the context's deadline (the
	// section's one budget, bound by section.Apply).
	Wait bool
	// CSRProbeTimeout bounds the CSR signing probe of preflight (0: 30s, or what is left of the
	// budget when less).
	CSRProbeTimeout time.Duration
	// ForceConflicts takes over fields other managers own.
	ForceConflicts bool
	// Prune deletes what an earlier converge applied that this one no longer has (kube.Applier.Prune).
	Prune bool
	// ForceApply applies every object, skipping nothing the apply record says is unchanged
	// (kube.Applier.ForceApply).
	ForceApply bool
}

// Converge runs, within ctx's deadline, preflight (exit 2 with the list, nothing changed), creates or reuses the
// credentials, applies the build and the credentials in one ordered pass, waits for the
// workloads and says how to reach the dashboard. The report lists every object and, as notes,
// every edit made.
func (in *Installer) Converge(ctx context.Context, b *Built, gh *GitHub) (*output.Report, error) {
	rep := &output.Report{}
	for _, e := range b.Edits {
		rep.Notes = append(rep.Notes, fmt.Sprintf("edit %s: %s", e.File, e.What))
	}
	csr := in.CSRProbeTimeout
	if csr == 0 {
		csr = 30 * time.Second
	}
	csr = core.Budget(ctx, csr)
	if in.DryRun.Active() {
		// A dry run creates nothing, not even the probe's CSR (which a server dry run could not
		// get signed anyway); `verify` probes signing when asked.
		csr = 0
		in.Progress.Logf("kubeflow: preflight: CSR signing not probed (dry run: nothing is created; `kubectl flexigrobots verify --section cluster` probes it)")
	}
	clients := CSRClients(b.Objects)
	if csr > 0 && len(clients) == 0 {
		csr = 0
		in.Progress.Logf("kubeflow: preflight: CSR signing not probed: no workload of the %s build asks the cluster's CA for certificates (`kubectl flexigrobots verify --section cluster` probes it)", b.Profile.Version)
	}
	server := ""
	if csr > 0 {
		in.Progress.Logf("kubeflow: preflight: probing CSR signing for %s", strings.Join(clients, ", "))
		var need bool
		var why string
		if need, why, server = csrProbeNeeded(ctx, in.Clients, time.Now()); !need {
			csr = 0
		}
		if why != "" {
			in.Progress.Logf("%s", why)
		}
	}
	in.Progress.Update("kubeflow: preflight")
	f, err := Preflight(ctx, in.Clients, b, csr)
	if err != nil {
		return rep, fmt.Errorf("kubeflow preflight: %w", err)
	}
	for _, w := range f.Warnings {
		in.Progress.Logf("warning: kubeflow preflight: %s", w)
	}
	if err := f.Err(b.Profile); err != nil {
		return rep, err
	}
	before := len(b.Edits)
	tlsState, err := RenderTLS(ctx, in.Clients, b)
	if err != nil {
		return rep, fmt.Errorf("kubeflow: %w", err)
	}
	for _, e := range b.Edits[before:] {
		rep.Notes = append(rep.Notes, fmt.Sprintf("edit %s: %s", e.File, e.What))
	}
	creds, err := NewCredentials(ctx, in.Clients.Client, b, gh)
	if err != nil {
		return rep, err
	}
	for _, w := range creds.Warnings {
		in.Progress.Logf("warning: kubeflow: %s", w)
	}
	if b.Images.Enabled() {
		if err := b.CompleteAll(); err != nil { // the rewrite reads every object whole
			return rep, err
		}
	}
	if err := b.Images.Rewrite(b.Objects); err != nil {
		return rep, fmt.Errorf("kubeflow: image registry: %w", err)
	}
	objs := append(append([]*unstructured.Unstructured{}, b.Objects...), creds.Objects...)
	// The Secrets converge generates (never the dex ConfigMap that may hold a hash: its other
	// settings are a person's to keep) replace what a hand-made install left, published values.
	generated := map[string]bool{}
	for _, o := range creds.Objects {
		if o.GetKind() == "Secret" {
			generated[kube.Ref(o)] = true
		}
	}
	a := &kube.Applier{Generated: func(u *unstructured.Unstructured) bool { return generated[kube.Ref(u)] }, Replaces: replacesGeneratorRef(creds.Objects), Clients: in.Clients, DryRun: in.DryRun, Progress: in.Progress, Section: Name, ForceConflicts: in.ForceConflicts, SkipUnchanged: true, ForceApply: in.ForceApply, Unrecorded: ingress.IsShared, ApplySet: true, Complete: b.Complete, NoPrune: !in.Prune,
		KeepMember: (&keeper{c: in.Clients}).keep}
	applied, err := a.Apply(ctx, objs)
	rep.Add(applied.Results...)
	if err != nil {
		return rep, err
	}
	if f.CSRSigned && !in.DryRun.Active() {
		if err := recordCSRPass(ctx, in.Clients, server, time.Now()); err != nil {
			in.Progress.Logf("warning: kubeflow: cannot record that CSR signing passed (the next run probes it again): %v", err)
		}
	}
	if creds.Reused {
		rep.Notes = append(rep.Notes, "OIDC client secret: reused the generated one already in the cluster")
	} else {
		rep.Notes = append(rep.Notes, fmt.Sprintf("OIDC client secret: generated (Kubeflow's public default replaced) in Secrets %s/%s and %s/%s", b.Profile.Dex.Namespace, b.Profile.Dex.Generator, b.Profile.Proxy.Namespace, b.Profile.Proxy.Generator))
	}
	rep.Notes = append(rep.Notes, creds.Notes...)
	if err := in.restart(ctx, rep, creds.Restart); err != nil {
		return rep, err
	}
	if in.DryRun.Active() {
		return rep, nil
	}
	if in.Wait {
		targets := b.Profile.WaitTargets()
		if b.WaitsForTLS && tlsState == nil {
			// authservice (v1.5) only gets Ready once its https OIDC provider answers, which needs
			// the certificate `tls` installs: waiting for it here would spend the whole --timeout.
			for i := range targets {
				if targets[i].GVR == kube.StatefulSetsGVR && targets[i].Namespace == ingress.IstioNamespace {
					targets[i].Except = []string{ingress.AuthserviceName}
				}
			}
			rep.Notes = append(rep.Notes, fmt.Sprintf("authservice gets Ready once its OIDC provider %s answers over HTTPS: run `kubectl flexigrobots tls --domain ...` next (not waited for)", b.OIDCProvider))
		}
		// The custom resources and Jobs this run changed too (Certificates, Profiles, ...): the
		// unchanged ones were awaited by the run that changed them.
		changed := map[string]bool{}
		for _, r := range applied.Results {
			if r.Action == output.Created || r.Action == output.Configured {
				changed[r.Kind+"/"+r.Namespace+"/"+r.Name] = true
			}
		}
		targets = append(targets, kube.CustomResourceTargets(objs, func(o *unstructured.Unstructured) bool {
			return changed[o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName()]
		})...)
		w := &kube.Waiter{Clients: in.Clients, Progress: in.Progress, Label: "kubeflow"}
		if err := w.Wait(ctx, targets); err != nil {
			return rep, fmt.Errorf("kubeflow: waiting for the workloads of namespaces %s and the custom resources and Jobs this run changed: %w", strings.Join(b.Profile.Namespaces, ", "), err)
		}
	}
	rep.Notes = append(rep.Notes, DashboardAccess(ctx, in.Clients.Client))
	return rep, nil
}

// restart restarts the workloads whose credential this run changed (they read it at start-up
// only), like `kubectl rollout restart`; a dry run reports them.
func (in *Installer) restart(ctx context.Context, rep *output.Report, targets []kube.Target) error {
	for _, w := range targets {
		kind := "Deployment"
		if w.GVR == kube.StatefulSetsGVR {
			kind = "StatefulSet"
		}
		res := output.Result{Kind: kind, Namespace: w.Namespace, Name: w.Name, Action: "restarted", Detail: "reads its credentials at start-up"}
		if in.DryRun.Active() {
			res.DryRun = in.DryRun
			rep.Add(res)
			continue
		}
		ok, err := in.Clients.RolloutRestart(ctx, w)
		if err != nil {
			return fmt.Errorf("kubeflow: %w", err)
		}
		if ok {
			rep.Add(res)
		}
	}
	return nil
}

// DashboardAccess says how to reach the dashboard: the ingress gateway's external IP or host,
// otherwise the port-forward command.
func DashboardAccess(ctx context.Context, c kubernetes.Interface) string {
	pf := "kubectl port-forward -n istio-system svc/istio-ingressgateway 8080:80, then open http://localhost:8080"
	svc, err := c.CoreV1().Services("istio-system").Get(ctx, "istio-ingressgateway", metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return "dashboard: no istio-system/istio-ingressgateway Service"
		}
		return "dashboard: " + pf
	}
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		host := ing.IP
		if host == "" {
			host = ing.Hostname
		}
		if host != "" {
			return fmt.Sprintf("dashboard: http://%s/ (istio-ingressgateway %s)", host, svc.Spec.Type)
		}
	}
	return fmt.Sprintf("dashboard: istio-ingressgateway is %s without an external IP yet; meanwhile: %s", svc.Spec.Type, pf)
}

// NodeRuntime returns the container runtime of the cluster's nodes (e.g. "docker://20.10.7" or
// "containerd://1.7.0"); mixed runtimes are joined with ",".
func NodeRuntime(ctx context.Context, c kubernetes.Interface) (string, error) {
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range nodes.Items {
		r, _, _ := strings.Cut(n.Status.NodeInfo.ContainerRuntimeVersion, "://")
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, n.Status.NodeInfo.ContainerRuntimeVersion)
		}
	}
	return strings.Join(out, ","), nil
}

// RenderTLS renders the build's Gateway and auth allow-list with the TLS state `tls` recorded in
// the cluster (the same function `tls` uses), so a re-run keeps HTTPS and the ACME exclusion;
// without a recorded state, HTTPS servers made by hand on the live Gateway are kept. It returns the state (nil when TLS is not configured) and notes each change in b.Edits.
func RenderTLS(ctx context.Context, c *kube.Clients, b *Built) (*ingress.State, error) {
	st, err := ingress.LoadState(ctx, c.Client)
	if err != nil {
		return nil, err
	}
	notes, err := ingress.Render(b.Objects, st)
	if err != nil {
		return nil, err
	}
	if st == nil {
		// No state recorded: HTTPS made by hand (the runbook's) stays as it is.
		note, err := ingress.KeepHandMadeHTTPS(ctx, c.Dynamic, b.Objects)
		if err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	for _, n := range notes {
		b.Edits = append(b.Edits, Edit{File: "(cluster) " + ingress.IstioNamespace + "/" + ingress.StateName, What: n})
	}
	return st, nil
}

// generatorHash is the suffix kustomize's secretGenerator adds to a Secret's name.
var generatorHash = regexp.MustCompile(`^-[a-z0-9]{10}$`)

// replacesGeneratorRef tells the Applier which differing values are this section's own: a
// reference (secretKeyRef, secretRef, ...) that names one of the Secrets converge generates
// (name), where the live object names the upstream secretGenerator's hashed Secret (name-<hash>)
// that the edits took out of the build, all else equal.
func replacesGeneratorRef(generated []*unstructured.Unstructured) func(*unstructured.Unstructured, string, any, any) bool {
	names := map[string]bool{}
	for _, o := range generated {
		if o.GetKind() == "Secret" {
			names[o.GetName()] = true
		}
	}
	return func(_ *unstructured.Unstructured, _ string, live, want any) bool {
		l, lok := live.(map[string]any)
		w, wok := want.(map[string]any)
		if !lok || !wok || len(l) != len(w) {
			return false
		}
		wn, _ := w["name"].(string)
		ln, _ := l["name"].(string)
		if !names[wn] || !strings.HasPrefix(ln, wn) || !generatorHash.MatchString(ln[len(wn):]) {
			return false
		}
		for k, v := range w {
			if k != "name" && fmt.Sprint(l[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
}
