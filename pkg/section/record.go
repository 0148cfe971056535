package section

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// PlatformRecord is the ConfigMap in kube.RecordNamespace that holds, per section (data key: its
// name), the block of the platform file its last finished apply ran with, as YAML: the fields
// the file and the flags set (files by path: a Spec keeps the secrets it loads out of its
// fields), as `helm get values` keeps a release's. `export --platform` writes the platform file
// from it; an uninstall that took its section down takes the block out, and the ConfigMap goes
// with the last block.
const PlatformRecord = "flexigrobots-platform"

// PlatformRecordRules are what keeping the PlatformRecord needs.
var PlatformRecordRules = []rbacv1.PolicyRule{
	access.Rule("", []string{"configmaps"}, "get", "create"),
	access.Named("", []string{"configmaps"}, []string{PlatformRecord}, "patch", "delete"),
}

// recordBlock writes s as section name's block, when it differs from the recorded one.
func recordBlock(ctx context.Context, r *Run, name string, s Spec) error {
	block, err := yaml.Marshal(s)
	if err != nil {
		return err
	}
	return setBlock(ctx, r, name, string(block))
}

// forgetBlock takes section name's block out ("" block), and the ConfigMap with the last one.
func forgetBlock(ctx context.Context, r *Run, name string) error {
	return setBlock(ctx, r, name, "")
}

// setBlock sets (or, with "", removes) one data key with a merge patch, so that sections
// recording at the same time do not conflict.
func setBlock(ctx context.Context, r *Run, name, block string) error {
	cms := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	cm, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && block == "":
		return nil
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: PlatformRecord, Namespace: kube.RecordNamespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": kube.FieldManager}}, Data: map[string]string{name: block}}
		if _, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: kube.FieldManager}); !apierrors.IsAlreadyExists(err) {
			return err
		}
		cm, err = cms.Get(ctx, PlatformRecord, metav1.GetOptions{}) // another section made it meanwhile
		if err != nil {
			return err
		}
	case err != nil:
		return err
	}
	old, had := cm.Data[name]
	if old == block && (had || block == "") {
		return nil
	}
	if block == "" && len(cm.Data) == 1 {
		rv := cm.ResourceVersion
		err := cms.Delete(ctx, PlatformRecord, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		if !apierrors.IsConflict(err) {
			return unlessNotFound(err)
		}
	}
	var value any = block
	if block == "" {
		value = nil
	}
	patch, _ := json.Marshal(map[string]any{"data": map[string]any{name: value}})
	_, err = cms.Patch(ctx, PlatformRecord, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager})
	return unlessNotFound(err)
}

// unlessNotFound is err, or nil when it says the record is gone already.
func unlessNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// RecordedBlocks returns the recorded block of each section that has one (its YAML), nil when
// none has.
func RecordedBlocks(ctx context.Context, c *kube.Clients) (map[string]string, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, PlatformRecord, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ConfigMap %s/%s: %w", kube.RecordNamespace, PlatformRecord, err)
	}
	return cm.Data, nil
}

// pendingAnnotation is the PlatformRecord's annotation that says section name's post-conditions
// have not passed since it last changed the cluster (see Apply).
func pendingAnnotation(name string) string { return "post-conditions.flexigrobots.io/" + name }

// postConditionsPending tells whether section name's post-conditions are pending.
func postConditionsPending(ctx context.Context, r *Run, name string) (bool, error) {
	cm, err := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, PlatformRecord, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cm.Annotations[pendingAnnotation(name)] == "true", nil
}

// setPostConditionsPending notes (or clears) that section name's post-conditions are pending,
// writing only when the note changes; a merge patch of its one annotation, so that sections
// noting at the same time do not conflict.
func setPostConditionsPending(ctx context.Context, r *Run, name string, pending bool) error {
	cms := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	key := pendingAnnotation(name)
	cm, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && !pending:
		return nil
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: PlatformRecord, Namespace: kube.RecordNamespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": kube.FieldManager}, Annotations: map[string]string{key: "true"}}}
		if _, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: kube.FieldManager}); !apierrors.IsAlreadyExists(err) {
			return err
		}
		if cm, err = cms.Get(ctx, PlatformRecord, metav1.GetOptions{}); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if (cm.Annotations[key] == "true") == pending {
		return nil
	}
	var value any = "true"
	if !pending {
		value = nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{key: value}}})
	_, err = cms.Patch(ctx, PlatformRecord, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: kube.FieldManager})
	return unlessNotFound(err)
}
