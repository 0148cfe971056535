package gpu

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// operator installs the gpu-operator chart, or upgrades the release of it found in the namespace
// under any name (e.g. gpu-operator-1660041098 made with --generate-name). The device-plugin
// config a release already points at (`gpu slicing`) is kept, so re-running it never undoes
// time-slicing. With Wait it waits until the ClusterPolicy is ready (the post-conditions,
// section.Apply's, follow). The chart version, when empty, is picked for the server.
func (in *installer) operator(ctx context.Context, o OperatorSpec) (*output.Report, error) {
	rep := &output.Report{}
	server, err := in.ServerVersion()
	if err != nil {
		return rep, core.Wrapf(err, "gpu")
	}
	if err := versions.GPUOperator.Resolve(server, &o.Chart, in.Progress.Logf); err != nil {
		return rep, err
	}
	gpus, err := Nodes(ctx, in.Clients)
	if err != nil {
		return rep, err
	}
	if len(gpus) == 0 {
		in.Progress.Logf("warning: gpu: no node advertises NVIDIA GPUs (capacity nvidia.com/gpu, or label %s / %s); the operator installs but has nothing to manage: %s", LabelPresent, LabelNFDNvidiaPCI, DriverCheckHint)
	}
	spec, err := operatorRelease(in.Helm, o, in.images)
	if err != nil {
		return rep, err
	}
	spec.Wait, spec.Timeout, spec.DryRun = in.Wait, core.Budget(ctx, in.Timeout), in.DryRun
	spec.ApplyCRDs = func(ctx context.Context, crds []*unstructured.Unstructured) error {
		// SkipUnchanged: Kubernetes 1.21 writes on a no-op apply of some of these CRDs.
		a := &kube.Applier{Clients: in.Clients, DryRun: in.DryRun, ForceConflicts: true, Progress: in.Progress, Section: Name, SkipUnchanged: true}
		// A server dry run of every CRD first: one the server refuses (CEL rules on
		// Kubernetes < 1.25) fails the run before any CRD is changed. The CRDs the apply
		// record holds as they are were accepted already: a re-run dry-runs none of them.
		if tried := a.NotRecorded(ctx, crds); len(tried) > 0 {
			dry := &kube.Applier{Clients: in.Clients, DryRun: core.DryRunServer, ForceConflicts: true, Section: Name}
			if _, err := dry.Apply(ctx, tried); err != nil {
				return fmt.Errorf("server dry run, nothing changed: %w", err)
			}
		}
		r, err := a.Apply(ctx, crds)
		rep.Add(r.Results...)
		return err
	}
	res, _, err := in.Helm.Ensure(ctx, spec)
	if err != nil {
		if core.IsUsageError(err) { // the chart's preflight refused it before any change
			return rep, core.Wrapf(err, "gpu: %s", in.fits())
		}
		if strings.Contains(err.Error(), "x-kubernetes-validations") {
			return rep, in.celError(res.Detail, err)
		}
		return rep, err
	}
	rep.Add(res)
	if !in.Wait || in.DryRun.Active() {
		return rep, nil
	}
	return rep, in.waitClusterPolicy(ctx)
}

// operatorRelease is the operator's release as o wants it (without the run's wait, budget, dry
// run and CRDs): the driver as o says, the device-plugin config the deployed release points
// at (`gpu slicing`'s) kept, and its images from reg (see hookImages).
func operatorRelease(h *helm.Client, o OperatorSpec, reg images.Registry) (helm.Spec, error) {
	values := map[string]any{"driver": map[string]any{"enabled": o.DriverEnabled}}
	existing, err := h.Find(o.ReleaseNamespace, ChartName)
	if err != nil {
		return helm.Spec{}, err
	}
	if existing != nil {
		if cfg, ok := devicePluginConfig(existing.Config); ok {
			values["devicePlugin"] = map[string]any{"config": cfg}
		}
	}
	spec := helm.Spec{ReleaseName: ChartName, Namespace: o.ReleaseNamespace, ChartName: ChartName, Chart: o.Chart,
		Values: values, CreateNamespace: true, Images: reg}
	if reg.Registry != "" {
		spec.ChartValues = func(defaults map[string]any) (map[string]any, error) { return hookImages(defaults, reg) }
	}
	return spec, nil
}

// hookImages are the values that set the images of the chart's hooks to reg: helm does not
// post-render hooks, so the rewrite of the templates cannot reach them. The gpu-operator's hooks
// (the CRD upgrade, the cleanups) run the operator's image (operator.repository/image:version)
// and node-feature-discovery's prune Job its image (image.repository:tag); defaults are the
// chart's own values.
func hookImages(defaults map[string]any, reg images.Registry) (map[string]any, error) {
	values := map[string]any{}
	if repo, _, _ := unstructured.NestedString(defaults, "operator", "repository"); repo != "" {
		image, _, _ := unstructured.NestedString(defaults, "operator", "image")
		mapped, err := reg.MapRef(strings.TrimSuffix(repo, "/") + "/" + image)
		if err != nil {
			return nil, fmt.Errorf("gpu: operator image %s/%s: %w", repo, image, err)
		}
		values["operator"] = map[string]any{"repository": strings.TrimSuffix(mapped, "/"+image)}
	}
	if repo, _, _ := unstructured.NestedString(defaults, NFDValues, "image", "repository"); repo != "" {
		mapped, err := reg.MapRef(repo)
		if err != nil {
			return nil, fmt.Errorf("gpu: node-feature-discovery image %s: %w", repo, err)
		}
		values[NFDValues] = map[string]any{"image": map[string]any{"repository": mapped}}
	}
	return values, nil
}

// NFDValues is the key of node-feature-discovery's values in the gpu-operator chart.
const NFDValues = "node-feature-discovery"

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
func (in *installer) waitClusterPolicy(ctx context.Context) error {
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

// fits names the release of the version matrix that installs on the server, for an error's fix.
func (in *installer) fits() string {
	if s, err := in.ServerVersion(); err == nil {
		if d := versions.GPUOperator.DefaultOn(s.Minor); d.Version != "" {
			return fmt.Sprintf("the release that installs on %s: --chart-version %s (or leave it out)", s, d.Version)
		}
	}
	return "give a chart version that fits this cluster"
}

// celError explains a chart whose CRDs use CEL validation rules on a server older than 1.25
// (e.g. gpu-operator v26.7.0 on the runbook's Kubernetes 1.21): the server refuses them for good.
func (in *installer) celError(chart string, err error) error {
	server := "this server"
	if s, verr := in.ServerVersion(); verr == nil {
		server = s.String()
	}
	msg := err.Error()
	if len(msg) > 400 {
		msg = msg[:400] + " ..."
	}
	return fmt.Errorf("gpu: %s cannot be installed on %s: its CRDs use CEL validation rules (x-kubernetes-validations), which need Kubernetes >= 1.%d; %s, or upgrade the cluster. The server said: %s",
		chart, server, versions.CELMinor, in.fits(), msg)
}
