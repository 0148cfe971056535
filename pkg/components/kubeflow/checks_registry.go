package kubeflow

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	kubectlapply "k8s.io/kubectl/pkg/cmd/apply"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// clusterNamespaces are the cluster's own namespaces: a build may put a member there
// (v1.10's istio-cni-node in kube-system), but the other pods there are not Kubeflow's.
var clusterNamespaces = []string{"default", "kube-node-lease", "kube-public", "kube-system"}

// registryNamespaces are where Kubeflow's pods run (KUBEFLOW-006): the namespaces of the
// section's apply set (the additional-namespaces annotation of its apply record
// kube.RecordName(Name) in kube.RecordNamespace; Namespaces when there is no record), without
// the cluster's own, and the profile namespaces (labelled app.kubernetes.io/part-of=
// kubeflow-profile by the profile controller), whose notebooks and pipeline steps are started
// from the images Kubeflow's settings name.
func registryNamespaces(s *checks.Snapshot, _ []byte) ([]string, error) {
	record, err := cluster.RecordConfigMap(s, kube.RecordName(Name))
	if err != nil {
		return nil, err
	}
	var out []string
	if record == nil {
		out = slices.Clone(Namespaces)
	} else {
		for _, ns := range strings.Split(record.Annotations[kubectlapply.ApplySetAdditionalNamespacesAnnotation], ",") {
			if ns = strings.TrimSpace(ns); ns != "" && !slices.Contains(clusterNamespaces, ns) {
				out = append(out, ns)
			}
		}
	}
	nss, err := checks.ListAs[corev1.Namespace](s, cluster.NamespacesGVR)
	if err != nil {
		return nil, err
	}
	for _, ns := range nss {
		if ns.Labels[profile.WebhookLabel] == profile.WebhookLabelValue {
			out = append(out, ns.Name)
		}
	}
	return out, nil
}
