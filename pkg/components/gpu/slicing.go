package gpu

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// ConfigHashAnnotation, on the device plugin DaemonSet's pod template, remembers which
// configuration the pods were restarted for (beside kubectl rollout restart's annotation).
const ConfigHashAnnotation = "kubectl-flexigrobots/device-plugin-config"

// SlicingOptions is `gpu slicing`.
type SlicingOptions struct {
	// Namespace holds the gpu-operator release and the config ConfigMap.
	Namespace string
	// ConfigName is the ConfigMap's name (default DefaultConfigName).
	ConfigName string
	// Config is the time-slicing wanted; Replicas 1 turns slicing off.
	Config SlicingConfig
	// Chart is the chart to upgrade the release with; an empty Version means the release's own.
	Chart   core.ChartSource
	DryRun  core.DryRunStrategy
	Wait    bool
	Timeout time.Duration
}

func (o *SlicingOptions) dryRun() bool { return o.DryRun != "" && o.DryRun != core.DryRunNone }

// Slicing writes the device plugin's time-slicing config, points the gpu-operator release at it
// keeping every other value of the release, restarts the device plugin when the configuration
// changed, and waits until every GPU node advertises physical GPUs x replicas. It returns the
// nodes as they are at the end. No GPU node and no gpu-operator release are usage errors
// (exit code 2), found before any change.
func (in *Installer) Slicing(ctx context.Context, o SlicingOptions) (*output.Report, []NodeGPU, error) {
	rep := &output.Report{}
	ctx, cancel := core.WithBudget(ctx, o.Timeout) // --timeout is the whole command's
	defer cancel()
	if o.DryRun == "" {
		o.DryRun = core.DryRunNone
	}
	gpus, err := in.GPUNodes(ctx)
	if err != nil {
		return rep, nil, err
	}
	if len(gpus) == 0 {
		return rep, nil, core.UsageErrorf("gpu slicing: no node advertises NVIDIA GPUs (capacity nvidia.com/gpu, or label %s / %s), so there is nothing to share: %s; then run `kubectl flexigrobots gpu operator`", LabelPresent, LabelNFDNvidiaPCI, DriverCheckHint)
	}
	rel, err := in.Helm.Find(o.Namespace, ChartName)
	if err != nil {
		return rep, nil, err
	}
	if rel == nil {
		return rep, nil, core.UsageErrorf("gpu slicing: no gpu-operator release in namespace %s: run `kubectl flexigrobots gpu operator` first (or give --release-namespace where it is installed)", o.Namespace)
	}
	// Without --chart-version/--chart the release keeps its own chart: no repository is read, so
	// slicing works on air-gapped sites without repeating the operator's chart flags.
	reuseChart := o.Chart.Version == "" && o.Chart.Chart == ""
	on := o.Config.Replicas > 1
	current, _ := devicePluginConfig(rel.Config)
	pointed, _ := current["name"].(string)

	release := helm.Spec{
		ReleaseName: rel.Name, Namespace: o.Namespace, ChartName: ChartName, Chart: o.Chart,
		ReuseValues: true, ReuseChart: reuseChart, Wait: o.Wait, Timeout: o.Timeout, DryRun: o.DryRun,
	}
	// The chart and values first: a bad --chart-version or --set is refused (exit 2) before the
	// ConfigMap is written.
	if err := in.Helm.Check(ctx, release); err != nil {
		return rep, nil, core.Wrapf(err, "gpu slicing: release %s/%s", o.Namespace, rel.Name)
	}
	switch {
	case on:
		release.Values = map[string]any{"devicePlugin": map[string]any{"config": map[string]any{"name": o.ConfigName, "default": ConfigKey}}}
		a := &kube.Applier{Clients: in.Clients, DryRun: o.DryRun, Progress: in.Progress, Section: Section, TakeBack: true}
		r, err := a.Apply(ctx, []*unstructured.Unstructured{o.Config.ConfigMap(o.Namespace, o.ConfigName)})
		if err != nil {
			return rep, nil, err
		}
		rep.Add(r.Results...)
	case pointed != "":
		release.Values = map[string]any{"devicePlugin": map[string]any{"config": map[string]any{"name": "", "default": ""}}}
	}
	res, _, err := in.Helm.Ensure(ctx, release)
	if err != nil {
		return rep, nil, err
	}
	rep.Add(res)
	if !on {
		r, err := in.deleteConfig(ctx, o)
		if err != nil {
			return rep, nil, err
		}
		if r != nil {
			rep.Add(*r)
		}
	}
	r, err := in.reloadDevicePlugin(ctx, o)
	if err != nil {
		return rep, nil, err
	}
	if r != nil {
		rep.Add(*r)
		if r.Action != output.Unchanged && o.Wait && !o.dryRun() {
			w := &kube.Waiter{Clients: in.Clients, Progress: in.Progress, Label: "gpu: device plugin restart"}
			wctx, cancel := context.WithTimeout(ctx, o.Timeout)
			err := w.Wait(wctx, []kube.Target{{GVR: kube.DaemonSetsGVR, Namespace: o.Namespace, Name: DevicePluginDaemonSet}})
			cancel()
			if err != nil {
				return rep, nil, fmt.Errorf("gpu: restart of daemonset %s/%s: %w", o.Namespace, DevicePluginDaemonSet, err)
			}
		}
	}
	if o.Wait && !o.dryRun() {
		wctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		if err := in.waitAdvertised(wctx, o); err != nil {
			return rep, nil, err
		}
	}
	gpus, err = in.GPUNodes(ctx)
	return rep, gpus, err
}

// deleteConfig removes the config ConfigMap when slicing is turned off, if this plugin made it.
func (in *Installer) deleteConfig(ctx context.Context, o SlicingOptions) (*output.Result, error) {
	cms := in.Clients.Client.CoreV1().ConfigMaps(o.Namespace)
	cm, err := cms.Get(ctx, o.ConfigName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: get ConfigMap %s/%s: %w", o.Namespace, o.ConfigName, err)
	}
	if cm.Labels[kube.ManagedByLabel] != kube.FieldManager {
		in.Progress.Logf("gpu: ConfigMap %s/%s was not made by kubectl flexigrobots; leaving it (nothing points at it any more)", o.Namespace, o.ConfigName)
		return nil, nil
	}
	res := &output.Result{Kind: "ConfigMap", Namespace: o.Namespace, Name: o.ConfigName, Action: output.Deleted}
	if o.dryRun() {
		res.DryRun = o.DryRun
		if o.DryRun == core.DryRunClient {
			return res, nil
		}
	}
	opts := metav1.DeleteOptions{}
	if o.DryRun == core.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := cms.Delete(ctx, o.ConfigName, opts); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("gpu: delete ConfigMap %s/%s: %w", o.Namespace, o.ConfigName, err)
	}
	if o.DryRun == core.DryRunServer {
		if u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(cm); err == nil {
			live := &unstructured.Unstructured{Object: u}
			live.SetAPIVersion("v1")
			live.SetKind("ConfigMap")
			in.Clients.Diff.Record(live, nil)
		}
	}
	return res, nil
}

// reloadDevicePlugin restarts the device plugin pods (kubectl rollout restart's annotation) when
// the configuration differs from the one they were last restarted for: the operator does not
// always restart them when only the ConfigMap changes. A DaemonSet not yet created by the
// operator is left alone (its pods will read the config when they start).
func (in *Installer) reloadDevicePlugin(ctx context.Context, o SlicingOptions) (*output.Result, error) {
	dss := in.Clients.Client.AppsV1().DaemonSets(o.Namespace)
	ds, err := dss.Get(ctx, DevicePluginDaemonSet, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		in.Progress.Logf("gpu: daemonset %s/%s not found (the operator creates it); its pods will read the config when they start", o.Namespace, DevicePluginDaemonSet)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: get daemonset %s/%s: %w", o.Namespace, DevicePluginDaemonSet, err)
	}
	res := &output.Result{Kind: "DaemonSet", Namespace: o.Namespace, Name: DevicePluginDaemonSet, Action: output.Unchanged}
	want := o.Config.Hash(o.ConfigName)
	if ds.Spec.Template.Annotations[ConfigHashAnnotation] == want {
		return res, nil
	}
	res.Action, res.Detail = output.Configured, "restarted to load the device-plugin config"
	if o.dryRun() {
		res.DryRun = o.DryRun
		if o.DryRun == core.DryRunClient {
			return res, nil
		}
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{ConfigHashAnnotation: want, kube.RestartedAtAnnotation: time.Now().Format(time.RFC3339)},
	}}}})
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager}
	if o.DryRun == core.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := dss.Patch(ctx, DevicePluginDaemonSet, types.StrategicMergePatchType, patch, opts); err != nil {
		return nil, fmt.Errorf("gpu: restart daemonset %s/%s: %w", o.Namespace, DevicePluginDaemonSet, err)
	}
	return res, nil
}

// waitAdvertised waits until every GPU node's allocatable equals its physical GPUs x replicas of
// the resource the config advertises.
func (in *Installer) waitAdvertised(ctx context.Context, o SlicingOptions) error {
	resource := corev1.ResourceName(o.Config.Resource())
	var behind []string
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		nodes, err := in.Clients.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			behind = []string{err.Error()}
			return false, nil
		}
		behind = behind[:0]
		for i := range nodes.Items {
			n := &nodes.Items[i]
			if !IsGPUNode(n) {
				continue
			}
			g := Describe(n)
			want := g.Physical * int64(o.Config.Replicas)
			if got := quantity(n.Status.Allocatable, resource); got != want {
				behind = append(behind, fmt.Sprintf("%s advertises %d %s, want %d (%d physical x %d)", n.Name, got, resource, want, g.Physical, o.Config.Replicas))
			}
		}
		if len(behind) > 0 {
			in.Progress.Update("gpu: waiting for the device plugin: %s", strings.Join(behind, "; "))
		}
		return len(behind) == 0, nil
	})
	in.Progress.Done()
	if err != nil {
		return fmt.Errorf("gpu: %s after %s: %w; check the device plugin: kubectl get pods -n %s -o wide and kubectl logs -n %s ds/%s, restart it with kubectl rollout restart -n %s ds/%s, then re-run",
			strings.Join(behind, "; "), o.Timeout, err, o.Namespace, o.Namespace, DevicePluginDaemonSet, o.Namespace, DevicePluginDaemonSet)
	}
	return nil
}
