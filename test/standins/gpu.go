package standins

// GPUDevicePlugin imitates, on the test bed, the effect of three real components that cannot run
// here (no GPU, no kubelet, no container runtime):
//   - NVIDIA gpu-operator (ClusterPolicy controller): it sets ClusterPolicy status.state=ready,
//     as the operator does once its operands run, and creates the device plugin DaemonSet
//     nvidia-device-plugin-daemonset in the operator's namespace (the release namespace);
//   - NVIDIA k8s-device-plugin with its config manager: when the ClusterPolicy's
//     spec.devicePlugin.config.name names a ConfigMap in that namespace, the plugin reads the file
//     under spec.devicePlugin.config.default (or the only key) and advertises
//     physical x sharing.timeSlicing replicas of nvidia.com/gpu (or nvidia.com/gpu.shared, with
//     nvidia.com/gpu at 0, when renameByDefault) in the node's capacity and allocatable, as the
//     kubelet reports what a device plugin registers; no config (or replicas 1) is the physical
//     count again;
//   - GPU feature discovery: the node label nvidia.com/gpu.replicas.
// Physical GPUs are the node label nvidia.com/gpu.count that the harness sets on gpu-worker, as
// GFD would; GPU nodes are those labelled nvidia.com/gpu.present=true.
//
// kwok and node status: kwok's node stages (node-initialize, node-heartbeat-with-lease) only
// render conditions, addresses, daemonEndpoints and nodeInfo (node-initialize copies the existing
// capacity/allocatable), and the node-lifecycle controller never touches capacity, so a merge
// patch of status.capacity/allocatable on the status subresource sticks. The e2e test proves it:
// the advertised count stays through re-runs.

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// NVIDIA's names, as the operator, the device plugin and GFD use them (written out here, not
// taken from the product: a stand-in must not judge the product with its own code).
const (
	nvidiaOperatorNamespace = "gpu-operator"
	nvidiaDevicePluginDS    = "nvidia-device-plugin-daemonset"
	nvidiaLabelPresent      = "nvidia.com/gpu.present"
	nvidiaLabelCount        = "nvidia.com/gpu.count"
	nvidiaLabelReplicas     = "nvidia.com/gpu.replicas"

	nvidiaGPU    corev1.ResourceName = "nvidia.com/gpu"
	nvidiaShared corev1.ResourceName = "nvidia.com/gpu.shared"
)

var clusterPolicies = schema.GroupVersionResource{Group: "nvidia.com", Version: "v1", Resource: "clusterpolicies"}

// devicePluginConfig is the part of the k8s-device-plugin config file (version v1) the plugin
// reads for time-slicing.
type devicePluginConfig struct {
	Sharing struct {
		TimeSlicing struct {
			RenameByDefault bool `json:"renameByDefault"`
			Resources       []struct {
				Name     string `json:"name"`
				Replicas int    `json:"replicas"`
			} `json:"resources"`
		} `json:"timeSlicing"`
	} `json:"sharing"`
}

// timeSlicing reads the nvidia.com/gpu replicas and renameByDefault of a device plugin config
// file, as the plugin does (1 when it shares nothing).
func timeSlicing(file string) (replicas int, rename bool, err error) {
	var cfg devicePluginConfig
	if err := yaml.Unmarshal([]byte(file), &cfg); err != nil {
		return 0, false, err
	}
	replicas = 1
	for _, r := range cfg.Sharing.TimeSlicing.Resources {
		if r.Name == string(nvidiaGPU) && r.Replicas > 0 {
			replicas = r.Replicas
		}
	}
	return replicas, cfg.Sharing.TimeSlicing.RenameByDefault, nil
}

// GPUDevicePlugin is the stand-in for the gpu-operator, the NVIDIA device plugin and GPU feature
// discovery (see the file comment).
type GPUDevicePlugin struct {
	// Interval between reconciliations (default 500ms).
	Interval time.Duration
}

// NewGPUDevicePlugin returns the stand-in.
func NewGPUDevicePlugin() *GPUDevicePlugin { return &GPUDevicePlugin{Interval: 500 * time.Millisecond} }

// Name says what it imitates.
func (g *GPUDevicePlugin) Name() string {
	return "NVIDIA gpu-operator + k8s-device-plugin + GPU feature discovery (time-slicing)"
}

// Run reconciles until ctx ends.
func (g *GPUDevicePlugin) Run(ctx context.Context, c *testbed.Cluster) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	t := time.NewTicker(g.Interval)
	defer t.Stop()
	for {
		g.sync(ctx, c.Client, dyn)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (g *GPUDevicePlugin) sync(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface) {
	cps, err := dyn.Resource(clusterPolicies).List(ctx, metav1.ListOptions{})
	if err != nil || len(cps.Items) == 0 {
		return // no operator installed: nodes keep what the harness gave them
	}
	cp := &cps.Items[0]
	ns := cp.GetAnnotations()["meta.helm.sh/release-namespace"]
	if ns == "" {
		ns = nvidiaOperatorNamespace
	}
	if state, _, _ := unstructured.NestedString(cp.Object, "status", "state"); state != "ready" {
		_ = unstructured.SetNestedField(cp.Object, "ready", "status", "state")
		_, _ = dyn.Resource(clusterPolicies).UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	}
	g.ensureDaemonSet(ctx, client, ns, cp)

	replicas, rename := 1, false
	if name, _, _ := unstructured.NestedString(cp.Object, "spec", "devicePlugin", "config", "name"); name != "" {
		if cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
			key, _, _ := unstructured.NestedString(cp.Object, "spec", "devicePlugin", "config", "default")
			file, ok := cm.Data[key]
			if !ok && len(cm.Data) == 1 {
				for _, v := range cm.Data {
					file = v
				}
			}
			if r, rn, err := timeSlicing(file); err == nil {
				replicas, rename = r, rn
			}
		}
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: nvidiaLabelPresent + "=true"})
	if err != nil {
		return
	}
	for i := range nodes.Items {
		advertise(ctx, client, &nodes.Items[i], replicas, rename)
	}
}

// advertise sets the node's GPU capacity/allocatable and replicas label when they differ.
func advertise(ctx context.Context, client kubernetes.Interface, n *corev1.Node, replicas int, rename bool) {
	physical, err := strconv.Atoi(n.Labels[nvidiaLabelCount])
	if err != nil {
		return
	}
	want := map[corev1.ResourceName]*int{nvidiaGPU: ptr(physical * replicas), nvidiaShared: nil}
	if rename && replicas > 1 {
		want = map[corev1.ResourceName]*int{nvidiaGPU: ptr(0), nvidiaShared: ptr(physical * replicas)}
	}
	resources := map[string]any{}
	for name, v := range want {
		for _, list := range []corev1.ResourceList{n.Status.Capacity, n.Status.Allocatable} {
			q, has := list[name]
			if (v == nil && has) || (v != nil && (!has || q.Value() != int64(*v))) {
				if v == nil {
					resources[string(name)] = nil
				} else {
					resources[string(name)] = strconv.Itoa(*v)
				}
			}
		}
	}
	if len(resources) > 0 {
		patch, _ := json.Marshal(map[string]any{"status": map[string]any{"capacity": resources, "allocatable": resources}})
		_, _ = client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	}
	if label := strconv.Itoa(replicas); n.Labels[nvidiaLabelReplicas] != label {
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{nvidiaLabelReplicas: label}}})
		_, _ = client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	}
}

// ensureDaemonSet creates the device plugin DaemonSet the operator would run on GPU nodes,
// controlled by the ClusterPolicy as the operator's operands are (the garbage collector deletes
// it with the ClusterPolicy), and sets its image and pull secrets again when the ClusterPolicy
// changes them, as the operator reconciles its operands.
func (g *GPUDevicePlugin) ensureDaemonSet(ctx context.Context, client kubernetes.Interface, ns string, cp *unstructured.Unstructured) {
	dss := client.AppsV1().DaemonSets(ns)
	var secrets []corev1.LocalObjectReference
	names, _, _ := unstructured.NestedStringSlice(cp.Object, "spec", "devicePlugin", "imagePullSecrets")
	for _, n := range names {
		secrets = append(secrets, corev1.LocalObjectReference{Name: n})
	}
	if live, err := dss.Get(ctx, nvidiaDevicePluginDS, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		spec := &live.Spec.Template.Spec
		if err == nil && (spec.Containers[0].Image != devicePluginImage(cp) || len(spec.ImagePullSecrets) != len(secrets)) {
			spec.Containers[0].Image, spec.ImagePullSecrets = devicePluginImage(cp), secrets
			_, _ = dss.Update(ctx, live, metav1.UpdateOptions{})
		}
		return
	}
	labels := map[string]string{"app": nvidiaDevicePluginDS}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: nvidiaDevicePluginDS, Namespace: ns, Labels: labels, OwnerReferences: []metav1.OwnerReference{{
			APIVersion: cp.GetAPIVersion(), Kind: cp.GetKind(), Name: cp.GetName(), UID: cp.GetUID(), Controller: &controller, BlockOwnerDeletion: &controller,
		}}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:     map[string]string{nvidiaLabelPresent: "true"},
					Containers:       []corev1.Container{{Name: "nvidia-device-plugin", Image: devicePluginImage(cp)}},
					ImagePullSecrets: secrets,
				},
			},
		},
	}
	_, _ = dss.Create(ctx, ds, metav1.CreateOptions{})
}

var controller = true

// devicePluginImage is the device plugin's image as the operator forms it from the
// ClusterPolicy: spec.devicePlugin's repository/image:version.
func devicePluginImage(cp *unstructured.Unstructured) string {
	repo, _, _ := unstructured.NestedString(cp.Object, "spec", "devicePlugin", "repository")
	image, _, _ := unstructured.NestedString(cp.Object, "spec", "devicePlugin", "image")
	version, _, _ := unstructured.NestedString(cp.Object, "spec", "devicePlugin", "version")
	if image == "" {
		return "k8s-device-plugin:unknown"
	}
	return repo + "/" + image + ":" + version
}

func ptr(v int) *int { return &v }
