// Package profile is the runbook section "Enabling access to Kubeflow Pipelines": the PodDefault
// access-ml-pipeline in every Kubeflow profile namespace, applied once (named namespaces or every
// profile's), kept up to date as profiles appear (a watcher on client-go informers), removed
// again, and the checks of section "profiles". It holds the desired state and the steps; the
// cobra command is pkg/plugin/profile.
package profile

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Names of the runbook's object and of what Kubeflow's profile controller and admission webhook
// read (see Kubeflow's profile controller and admission-webhook).
const (
	// PodDefaultName is the runbook's PodDefault (deployment/040-pod_default_multiuser.yaml).
	PodDefaultName = "access-ml-pipeline"
	// SelectorLabel is the pod label the PodDefault selects: pods (notebooks) that carry
	// access-ml-pipeline: "true" get the pipelines token.
	SelectorLabel = "access-ml-pipeline"
	// WebhookLabel and WebhookLabelValue mark the namespaces whose new pods Kubeflow's admission
	// webhook mutates; the profile controller sets them on the namespaces it creates.
	WebhookLabel      = "app.kubernetes.io/part-of"
	WebhookLabelValue = "kubeflow-profile"
	// OwnerAnnotation is the namespace annotation the profile controller sets to spec.owner.name.
	OwnerAnnotation = "owner"
	// ResultKind is how results name the object: kubectl's kind.group form.
	ResultKind = "PodDefault.kubeflow.org"
)

// Resources this section reads and writes.
var (
	ProfilesGVR    = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"}
	PodDefaultsGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1alpha1", Resource: "poddefaults"}
	NamespacesGVR  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// DesiredSpec is the spec of the runbook's PodDefault, field for field: pods labelled
// access-ml-pipeline: "true" get a projected service-account token for the audience
// pipelines.kubeflow.org, mounted read-only, and KF_PIPELINES_SA_TOKEN_PATH pointing at it, so
// the Kubeflow Pipelines SDK in a notebook can call the pipelines API as the profile's user.
func DesiredSpec() map[string]any {
	return map[string]any{
		"desc":     "Allow access to Kubeflow Pipelines",
		"selector": map[string]any{"matchLabels": map[string]any{SelectorLabel: "true"}},
		"env": []any{
			map[string]any{"name": "KF_PIPELINES_SA_TOKEN_PATH", "value": "/var/run/secrets/kubeflow/pipelines/token"},
		},
		"volumes": []any{
			map[string]any{
				"name": "volume-kf-pipeline-token",
				"projected": map[string]any{"sources": []any{
					map[string]any{"serviceAccountToken": map[string]any{
						"path": "token", "expirationSeconds": int64(7200), "audience": "pipelines.kubeflow.org",
					}},
				}},
			},
		},
		"volumeMounts": []any{
			map[string]any{"mountPath": "/var/run/secrets/kubeflow/pipelines", "name": "volume-kf-pipeline-token", "readOnly": true},
		},
	}
}

// DesiredPodDefault is the runbook's PodDefault in namespace ns (the apply engine adds the
// app.kubernetes.io/managed-by label).
func DesiredPodDefault(ns string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": PodDefaultsGVR.GroupVersion().String(),
		"kind":       "PodDefault",
		"metadata":   map[string]any{"name": PodDefaultName, "namespace": ns},
		"spec":       DesiredSpec(),
	}}
}
