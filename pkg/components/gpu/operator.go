package gpu

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// Installer runs the gpu section against one cluster: every client comes from the root's one
// RESTClientGetter.
type Installer struct {
	Clients  *kube.Clients
	Helm     *helm.Client
	Progress *output.Progress
}

// OperatorOptions is `gpu operator`.
type OperatorOptions struct {
	// Namespace holds the release (default DefaultNamespace).
	Namespace string
	// DriverEnabled is the chart's driver.enabled (false: the drivers are on the host).
	DriverEnabled bool
	// Chart is --chart-repo/--chart-version/--chart/--set/-f.
	Chart   core.ChartSource
	DryRun  core.DryRunStrategy
	Wait    bool
	Timeout time.Duration
}

// GPUNodes lists the nodes that advertise NVIDIA GPUs (capacity or NFD/GFD labels).
func (in *Installer) GPUNodes(ctx context.Context) ([]NodeGPU, error) {
	nodes, err := in.Clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("gpu: list nodes: %w", err)
	}
	return Inventory(nodes.Items, nil), nil
}

// Operator installs the gpu-operator chart, or upgrades the release of it found in the namespace
// under any name (e.g. gpu-operator-1660041098 made with --generate-name). The device-plugin
// config a release already points at (`gpu slicing`) is kept, so re-running it never undoes
// time-slicing. With Wait it waits until the ClusterPolicy is ready and runs the gpu checks.
func (in *Installer) Operator(ctx context.Context, o OperatorOptions) (*output.Report, error) {
	rep := &output.Report{}
	ctx, cancel := core.WithBudget(ctx, o.Timeout) // --timeout is the whole command's
	defer cancel()
	if err := in.ResolveChart(&o.Chart); err != nil {
		return rep, err
	}
	gpus, err := in.GPUNodes(ctx)
	if err != nil {
		return rep, err
	}
	if len(gpus) == 0 {
		in.Progress.Logf("warning: gpu: no node advertises NVIDIA GPUs (capacity nvidia.com/gpu, or label %s / %s); the operator installs but has nothing to manage: %s", LabelPresent, LabelNFDNvidiaPCI, DriverCheckHint)
	}
	values := map[string]any{"driver": map[string]any{"enabled": o.DriverEnabled}}
	existing, err := in.Helm.Find(o.Namespace, ChartName)
	if err != nil {
		return rep, err
	}
	if existing != nil {
		if cfg, ok := devicePluginConfig(existing.Config); ok {
			values["devicePlugin"] = map[string]any{"config": cfg}
		}
	}
	spec := helm.Spec{
		ReleaseName: ChartName, Namespace: o.Namespace, ChartName: ChartName, Chart: o.Chart,
		Values: values, CreateNamespace: true, Wait: o.Wait, Timeout: o.Timeout, DryRun: o.DryRun,
		ApplyCRDs: func(ctx context.Context, crds []*unstructured.Unstructured) error {
			// A server dry run of every CRD first: one the server refuses (CEL rules on
			// Kubernetes < 1.25) fails the run before any CRD is changed.
			dry := &kube.Applier{Clients: in.Clients, DryRun: core.DryRunServer, ForceConflicts: true, Section: Section}
			if _, err := dry.Apply(ctx, crds); err != nil {
				return fmt.Errorf("server dry run, nothing changed: %w", err)
			}
			// SkipUnchanged: Kubernetes 1.21 writes on a no-op apply of some of these CRDs.
			a := &kube.Applier{Clients: in.Clients, DryRun: o.DryRun, ForceConflicts: true, Progress: in.Progress, Section: Section, SkipUnchanged: true}
			r, err := a.Apply(ctx, crds)
			rep.Add(r.Results...)
			return err
		},
	}
	res, _, err := in.Helm.Ensure(ctx, spec)
	if err != nil {
		if strings.Contains(err.Error(), "x-kubernetes-validations") {
			return rep, in.celError(res.Detail, err)
		}
		return rep, err
	}
	rep.Add(res)
	if !o.Wait || spec.DryRun != "" && spec.DryRun != core.DryRunNone {
		return rep, nil
	}
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := in.waitClusterPolicy(wctx); err != nil {
		return rep, err
	}
	return rep, in.postConditions(ctx)
}

// devicePluginConfig returns devicePlugin.config.{name,default} of release values, and whether
// the values set devicePlugin.config.name at all (`gpu slicing` sets it, to "" when disabled).
func devicePluginConfig(vals map[string]any) (map[string]any, bool) {
	dp, _ := vals["devicePlugin"].(map[string]any)
	cfg, _ := dp["config"].(map[string]any)
	name, ok := cfg["name"]
	if !ok {
		return nil, false
	}
	return map[string]any{"name": name, "default": cfg["default"]}, true
}

// waitClusterPolicy waits until every ClusterPolicy reports status.state ready.
func (in *Installer) waitClusterPolicy(ctx context.Context) error {
	var why string
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := in.Clients.Dynamic.Resource(ClusterPoliciesGVR).List(ctx, metav1.ListOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		if len(list.Items) == 0 {
			why = "no ClusterPolicy yet"
			return false, nil
		}
		for _, cp := range list.Items {
			if state, _, _ := unstructured.NestedString(cp.Object, "status", "state"); state != "ready" {
				why = fmt.Sprintf("ClusterPolicy %s: state %s", cp.GetName(), state)
				if state == "" {
					why = fmt.Sprintf("ClusterPolicy %s: the operator has not reported a state yet", cp.GetName())
				}
				in.Progress.Update("gpu: waiting for %s", why)
				return false, nil
			}
		}
		return true, nil
	})
	in.Progress.Done()
	if err != nil {
		return fmt.Errorf("gpu: ClusterPolicy not ready (%s): %w; look at kubectl describe clusterpolicy and the operator's pods, then re-run with a longer --timeout", why, err)
	}
	return nil
}

// postConditions runs the gpu checks; an error result fails the command (exit code 3).
func (in *Installer) postConditions(ctx context.Context) error {
	env := checks.Env{Client: in.Clients.Client, Dynamic: in.Clients.Dynamic, Discovery: in.Clients.Discovery, Host: in.Clients.Config.Host}
	var failed []string
	for _, r := range checks.Run(ctx, &checks.Collector{Env: env}, Checks()) {
		switch {
		case r.Severity >= checks.Error:
			failed = append(failed, fmt.Sprintf("%s %s: %s (fix: %s)", r.ID, r.Title, r.Message, r.Fix))
		case r.Severity == checks.Warn:
			in.Progress.Logf("warning: %s %s: %s (%s)", r.ID, r.Title, r.Message, r.Fix)
		}
	}
	if len(failed) > 0 {
		return &core.ExitError{Code: core.ExitFailed, Err: fmt.Errorf("gpu: post-conditions failed:\n  %s", strings.Join(failed, "\n  "))}
	}
	return nil
}

// celError explains a chart whose CRDs use CEL validation rules on a server older than 1.25
// (e.g. gpu-operator v26.7.0 on the runbook's Kubernetes 1.21): the server refuses them for good.
func (in *Installer) celError(chart string, err error) error {
	server := "this server"
	if s, verr := versions.Read(in.Clients.Discovery); verr == nil {
		server = s.String()
	}
	msg := err.Error()
	if len(msg) > 400 {
		msg = msg[:400] + " ..."
	}
	return fmt.Errorf("gpu: %s cannot be installed on %s: its CRDs use CEL validation rules (x-kubernetes-validations), which need Kubernetes >= 1.%d; use chart %s or older (--chart-version %s), or upgrade the cluster. The server said: %s",
		chart, server, versions.CELMinor, ChartRule.LastWithout, ChartRule.LastWithout, msg)
}
