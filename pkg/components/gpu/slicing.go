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

// slicing writes the device plugin's time-slicing config, points the gpu-operator release of
// namespace at it keeping every other value of the release, restarts the device plugin when the
// configuration changed, and with Wait waits until every GPU node advertises physical GPUs x
// replicas. No GPU node and no gpu-operator release are usage errors (exit code 2), found
// before any change. chart upgrades the release when it gives a version or a chart; the
// release keeps its own otherwise.
func (in *installer) slicing(ctx context.Context, namespace string, chart core.ChartSource, sl SlicingSpec) (*output.Report, error) {
	rep := &output.Report{}
	gpus, err := Nodes(ctx, in.Clients)
	if err != nil {
		return rep, err
	}
	if len(gpus) == 0 {
		return rep, core.UsageErrorf("gpu slicing: no node advertises NVIDIA GPUs (capacity nvidia.com/gpu, or label %s / %s), so there is nothing to share: %s; then run `kubectl flexigrobots gpu operator`", LabelPresent, LabelNFDNvidiaPCI, DriverCheckHint)
	}
	rel, err := in.Helm.Find(namespace, ChartName)
	if err != nil {
		return rep, err
	}
	if rel == nil {
		return rep, core.UsageErrorf("gpu slicing: no gpu-operator release in namespace %s: run `kubectl flexigrobots gpu operator` first (or give --release-namespace where it is installed)", namespace)
	}
	// Without --chart-version/--chart the release keeps its own chart: no repository is read, so
	// slicing works on air-gapped sites without repeating the operator's chart flags.
	reuseChart := chart.Version == "" && chart.Chart == ""
	on := sl.Replicas > 1
	current, _ := devicePluginConfig(rel.Config)
	pointed, _ := current["name"].(string)

	release := helm.Spec{
		ReleaseName: rel.Name, Namespace: namespace, ChartName: ChartName, Chart: chart,
		ReuseValues: true, ReuseChart: reuseChart, Wait: in.Wait, Timeout: core.Budget(ctx, in.Timeout), DryRun: in.DryRun,
		Images: in.images,
	}
	// The chart and values first: a bad --chart-version or --set is refused (exit 2) before the
	// ConfigMap is written.
	if err := in.Helm.Check(ctx, release); err != nil {
		return rep, core.Wrapf(err, "gpu slicing: release %s/%s", namespace, rel.Name)
	}
	switch {
	case on:
		release.Values = map[string]any{"devicePlugin": map[string]any{"config": map[string]any{"name": sl.ConfigName, "default": ConfigKey}}}
		a := &kube.Applier{Clients: in.Clients, DryRun: in.DryRun, Progress: in.Progress, Section: Name, TakeBack: true, ForceConflicts: in.ForceConflicts}
		r, err := a.Apply(ctx, []*unstructured.Unstructured{sl.ConfigMap(namespace)})
		if err != nil {
			return rep, err
		}
		rep.Add(r.Results...)
	case pointed != "":
		release.Values = map[string]any{"devicePlugin": map[string]any{"config": map[string]any{"name": "", "default": ""}}}
	}
	res, _, err := in.Helm.Ensure(ctx, release)
	if err != nil {
		return rep, err
	}
	rep.Add(res)
	reads := ""
	if on {
		reads = sl.ConfigName
	}
	adopted, err := in.handMadeConfigs(ctx, namespace, rel.Name, pointed, reads, sl.ConfigName)
	if err != nil {
		return rep, err
	}
	rep.Add(adopted.Results...)
	rep.Notes = append(rep.Notes, adopted.Notes...)
	if !on {
		r, err := in.deleteConfig(ctx, namespace, sl.ConfigName)
		if err != nil {
			return rep, err
		}
		if r != nil {
			rep.Add(*r)
		}
	}
	r, err := in.reloadDevicePlugin(ctx, namespace, sl)
	if err != nil {
		return rep, err
	}
	waits := in.Wait && !in.DryRun.Active()
	if r != nil {
		rep.Add(*r)
		if r.Action != output.Unchanged && waits {
			w := &kube.Waiter{Clients: in.Clients, Progress: in.Progress, Label: "gpu: device plugin restart"}
			if err := w.Wait(ctx, []kube.Target{{GVR: kube.DaemonSetsGVR, Namespace: namespace, Name: DevicePluginDaemonSet}}); err != nil {
				return rep, fmt.Errorf("gpu: restart of daemonset %s/%s: %w", namespace, DevicePluginDaemonSet, err)
			}
		}
	}
	if !waits {
		return rep, nil
	}
	return rep, in.waitAdvertised(ctx, namespace, sl)
}

// deleteConfig removes the config ConfigMap when slicing is turned off, if this plugin made it.
func (in *installer) deleteConfig(ctx context.Context, namespace, name string) (*output.Result, error) {
	cms := in.Clients.Client.CoreV1().ConfigMaps(namespace)
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: get ConfigMap %s/%s: %w", namespace, name, err)
	}
	if cm.Labels[kube.ManagedByLabel] != kube.FieldManager {
		return nil, nil // made by hand: see handMadeConfigs
	}
	return in.deleteConfigMap(ctx, cm, "")
}

// deleteConfigMap deletes cm (reported with detail), a dry run only reporting it.
func (in *installer) deleteConfigMap(ctx context.Context, cm *corev1.ConfigMap, detail string) (*output.Result, error) {
	cms := in.Clients.Client.CoreV1().ConfigMaps(cm.Namespace)
	namespace, name := cm.Namespace, cm.Name
	res := &output.Result{Kind: "ConfigMap", Namespace: namespace, Name: name, Action: output.Deleted, Detail: detail}
	if in.DryRun.Active() {
		res.DryRun = in.DryRun
		if in.DryRun == core.DryRunClient {
			return res, nil
		}
	}
	opts := metav1.DeleteOptions{}
	if in.DryRun == core.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if err := cms.Delete(ctx, name, opts); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("gpu: delete ConfigMap %s/%s: %w", namespace, name, err)
	}
	if in.DryRun == core.DryRunServer {
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
func (in *installer) reloadDevicePlugin(ctx context.Context, namespace string, sl SlicingSpec) (*output.Result, error) {
	dss := in.Clients.Client.AppsV1().DaemonSets(namespace)
	ds, err := dss.Get(ctx, DevicePluginDaemonSet, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		in.Progress.Logf("gpu: daemonset %s/%s not found (the operator creates it); its pods will read the config when they start", namespace, DevicePluginDaemonSet)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("gpu: get daemonset %s/%s: %w", namespace, DevicePluginDaemonSet, err)
	}
	res := &output.Result{Kind: "DaemonSet", Namespace: namespace, Name: DevicePluginDaemonSet, Action: output.Unchanged}
	want := sl.Hash()
	if ds.Spec.Template.Annotations[ConfigHashAnnotation] == want {
		return res, nil
	}
	res.Action, res.Detail = output.Configured, "restarted to load the device-plugin config"
	if in.DryRun.Active() {
		res.DryRun = in.DryRun
		if in.DryRun == core.DryRunClient {
			return res, nil
		}
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{ConfigHashAnnotation: want, kube.RestartedAtAnnotation: time.Now().Format(time.RFC3339)},
	}}}})
	opts := metav1.PatchOptions{FieldManager: kube.FieldManager}
	if in.DryRun == core.DryRunServer {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := dss.Patch(ctx, DevicePluginDaemonSet, types.StrategicMergePatchType, patch, opts); err != nil {
		return nil, fmt.Errorf("gpu: restart daemonset %s/%s: %w", namespace, DevicePluginDaemonSet, err)
	}
	return res, nil
}

// waitAdvertised waits until every GPU node's allocatable equals its physical GPUs x replicas of
// the resource the config advertises.
func (in *installer) waitAdvertised(ctx context.Context, namespace string, sl SlicingSpec) error {
	resource := corev1.ResourceName(sl.Resource())
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
			want := g.Physical * int64(sl.Replicas)
			if got := quantity(n.Status.Allocatable, resource); got != want {
				behind = append(behind, fmt.Sprintf("%s advertises %d %s, want %d (%d physical x %d)", n.Name, got, resource, want, g.Physical, sl.Replicas))
			}
		}
		if len(behind) > 0 {
			in.Progress.Update("gpu: waiting for the device plugin: %s", strings.Join(behind, "; "))
		}
		return len(behind) == 0, nil
	})
	in.Progress.Done()
	if err != nil {
		return fmt.Errorf("gpu: waiting for every GPU node to advertise its physical GPUs x %d %s: %s: %w; check the device plugin: kubectl get pods -n %s -o wide and kubectl logs -n %s ds/%s, restart it with kubectl rollout restart -n %s ds/%s, then re-run",
			sl.Replicas, resource, strings.Join(behind, "; "), err, namespace, namespace, DevicePluginDaemonSet, namespace, DevicePluginDaemonSet)
	}
	return nil
}
