package kube

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// RestartedAtAnnotation is the pod-template annotation `kubectl rollout restart` stamps.
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// RolloutRestart restarts a Deployment, StatefulSet or DaemonSet the way `kubectl rollout
// restart` does: it stamps the pod template with the time. A workload that does not exist is
// not an error (false): there is nothing running to restart.
func (c *Clients) RolloutRestart(ctx context.Context, w Target) (bool, error) {
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, RestartedAtAnnotation, time.Now().Format(time.RFC3339))
	_, err := c.Dynamic.Resource(w.GVR).Namespace(w.Namespace).Patch(ctx, w.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: FieldManager + "-restart"})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("restart %s %s/%s (run `kubectl rollout restart -n %s %s/%s`): %w", w.GVR.Resource, w.Namespace, w.Name, w.Namespace, w.GVR.Resource, w.Name, err)
	}
	return true, nil
}
