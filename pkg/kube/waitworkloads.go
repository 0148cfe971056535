package kube

import (
	"context"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// protobufClient is a clientset that speaks protobuf, built once for c (it shares c's
// connections: client-go keeps one transport per TLS configuration).
func (c *Clients) protobufClient() (kubernetes.Interface, error) {
	c.protobufOnce.Do(func() { c.protobuf, c.protobufErr = kubernetes.NewForConfig(protobufConfig(c.Config)) })
	return c.protobuf, c.protobufErr
}

// protobufConfig is a copy of cfg whose clients send and accept protobuf (JSON accepted too).
func protobufConfig(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return cfg
}

// protobufState is the lazily built protobuf clientset of Clients.
type protobufState struct {
	protobufOnce sync.Once
	protobuf     kubernetes.Interface
	protobufErr  error
}

// workloadItems reads a target of Deployments, StatefulSets or DaemonSets (ok false for any other
// resource) in protobuf through the typed client, each item as the part the readiness check reads
// (name, namespace, generation, replicas, update strategy, selector, status: see rolloutView and
// evaluate). A settled re-run polls every workload of each section's namespaces, and decoding
// the whole objects from JSON (pod templates and managed fields included) was most of the poll's
// CPU. Errors are the API server's, as the dynamic client's would be.
func workloadItems(ctx context.Context, c *Clients, t Target) (items []unstructured.Unstructured, ok bool, err error) {
	if c.Config == nil && c.protobuf == nil || t.GVR != DeploymentsGVR && t.GVR != StatefulSetsGVR && t.GVR != DaemonSetsGVR {
		return nil, false, nil
	}
	cs, err := c.protobufClient()
	if err != nil {
		return nil, true, err
	}
	apps, ns := cs.AppsV1(), t.Namespace
	var objs []runtime.Object
	switch t.GVR {
	case DeploymentsGVR:
		objs, err = views(ctx, t, apps.Deployments(ns).Get, apps.Deployments(ns).List, func(l *appsv1.DeploymentList) []appsv1.Deployment { return l.Items },
			func(d *appsv1.Deployment) runtime.Object {
				return &appsv1.Deployment{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: viewMeta(d.ObjectMeta),
					Spec: appsv1.DeploymentSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector}, Status: d.Status}
			})
	case StatefulSetsGVR:
		objs, err = views(ctx, t, apps.StatefulSets(ns).Get, apps.StatefulSets(ns).List, func(l *appsv1.StatefulSetList) []appsv1.StatefulSet { return l.Items },
			func(s *appsv1.StatefulSet) runtime.Object {
				return &appsv1.StatefulSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"}, ObjectMeta: viewMeta(s.ObjectMeta),
					Spec: appsv1.StatefulSetSpec{Replicas: s.Spec.Replicas, Selector: s.Spec.Selector, UpdateStrategy: s.Spec.UpdateStrategy}, Status: s.Status}
			})
	case DaemonSetsGVR:
		objs, err = views(ctx, t, apps.DaemonSets(ns).Get, apps.DaemonSets(ns).List, func(l *appsv1.DaemonSetList) []appsv1.DaemonSet { return l.Items },
			func(d *appsv1.DaemonSet) runtime.Object {
				return &appsv1.DaemonSet{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: viewMeta(d.ObjectMeta),
					Spec: appsv1.DaemonSetSpec{Selector: d.Spec.Selector, UpdateStrategy: d.Spec.UpdateStrategy}, Status: d.Status}
			})
	}
	if err != nil {
		return nil, true, err
	}
	items = make([]unstructured.Unstructured, 0, len(objs))
	for _, o := range objs {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			return nil, true, err
		}
		items = append(items, unstructured.Unstructured{Object: u})
	}
	return items, true, nil
}

// viewMeta is the part of a workload's metadata the readiness check reads.
func viewMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Generation: m.Generation}
}

// views reads the target's named object (Get: its error, NotFound included, is returned) or
// every object of its LIST, each as view makes it.
func views[T any, L any](ctx context.Context, t Target, get func(context.Context, string, metav1.GetOptions) (*T, error),
	list func(context.Context, metav1.ListOptions) (*L, error), items func(*L) []T, view func(*T) runtime.Object) ([]runtime.Object, error) {
	if t.Name != "" {
		o, err := get(ctx, t.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return []runtime.Object{view(o)}, nil
	}
	l, err := list(ctx, metav1.ListOptions{LabelSelector: t.Selector})
	if err != nil {
		return nil, err
	}
	all := items(l)
	out := make([]runtime.Object, 0, len(all))
	for i := range all {
		out = append(out, view(&all[i]))
	}
	return out, nil
}
