package kubeflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// ReleaseAnnotation on the section's apply record (kube-system/flexigrobots-applied-kubeflow)
// names the release the last finished converge (or upgrade hop) left on the cluster.
const ReleaseAnnotation = "kubectl-flexigrobots/kubeflow-release"

// pipelinesAPIServer is the Deployment whose image tag tells a release the plugin did not record
// (Profile.PipelinesTag).
var pipelinesAPIServer = kube.Target{GVR: kube.DeploymentsGVR, Namespace: "kubeflow", Name: "ml-pipeline"}

// Installation is the Kubeflow release found on the cluster.
type Installation struct {
	// Version is the release ("" when no Kubeflow is installed).
	Version string
	// How says how it was found: the apply record, or the pipelines API server's image tag.
	How string
	// Recorded: the apply record names Version.
	Recorded bool
	// Unknown is the image tag of a Kubeflow whose release is not in the profiles ("" otherwise).
	Unknown string
}

// Installed finds the release on the cluster: the one the apply record names, else (a platform
// built by hand, or by a plugin that did not record it) the one whose Kubeflow Pipelines API
// server image tag the Deployment kubeflow/ml-pipeline runs. No Deployment there: none.
func Installed(ctx context.Context, c *kube.Clients) (Installation, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, kube.RecordName(Name), metav1.GetOptions{})
	switch {
	case err == nil && cm.Annotations[ReleaseAnnotation] != "":
		v := cm.Annotations[ReleaseAnnotation]
		return Installation{Version: v, Recorded: true, How: "the apply record " + kube.RecordNamespace + "/" + cm.Name + " names it"}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return Installation{}, fmt.Errorf("read the apply record: %w", err)
	}
	d, err := c.Client.AppsV1().Deployments(pipelinesAPIServer.Namespace).Get(ctx, pipelinesAPIServer.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Installation{}, nil
	}
	if err != nil {
		return Installation{}, fmt.Errorf("read Deployment %s/%s: %w", pipelinesAPIServer.Namespace, pipelinesAPIServer.Name, err)
	}
	for _, ct := range d.Spec.Template.Spec.Containers {
		tag := imageTag(ct.Image)
		if tag == "" {
			continue
		}
		for _, v := range Versions() {
			if p := profiles[v]; p.PipelinesTag == tag {
				return Installation{Version: v, How: fmt.Sprintf("Deployment %s/%s runs Kubeflow Pipelines %s", d.Namespace, d.Name, tag)}, nil
			}
		}
		return Installation{Unknown: tag, How: fmt.Sprintf("Deployment %s/%s runs Kubeflow Pipelines %s", d.Namespace, d.Name, tag)}, nil
	}
	return Installation{}, nil
}

// imageTag is the tag of an image reference ("" for none or a digest only).
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndexByte(image, '/')
	if i := strings.LastIndexByte(image, ':'); i > slash {
		return image[i+1:]
	}
	return ""
}

// recordRelease names version on the apply record (ReleaseAnnotation) once a converge of it
// finished; version "" takes the name off the record an uninstall narrowed to the data it kept
// (with Kubeflow gone, a later install is a new one, not an upgrade). A record that already says
// so is not written (a re-run moves nothing); a dry run writes nothing, nor does "" on no record.
func recordRelease(ctx context.Context, c *kube.Clients, dry core.DryRunStrategy, version string) error {
	if dry.Active() {
		return nil
	}
	what := "record the release " + version
	var value any = version
	if version == "" {
		what, value = "take the release off the apply record", nil
	}
	cms := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	cm, err := cms.Get(ctx, kube.RecordName(Name), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && version == "":
		return nil
	case err != nil:
		return fmt.Errorf("kubeflow: %s: %w", what, err)
	case cm.Annotations[ReleaseAnnotation] == version:
		return nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{ReleaseAnnotation: value}}})
	if _, err := cms.Patch(ctx, cm.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager}); err != nil && !(version == "" && apierrors.IsNotFound(err)) {
		return fmt.Errorf("kubeflow: %s: %w", what, err)
	}
	return nil
}

// recorded tells whether the apply record already names version (no write needed).
func (in Installation) recorded(version string) bool {
	return in.Recorded && in.Version == version
}
