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

// recordBlock writes s as section name's block, when it differs from the recorded one, and
// returns the record as it read it (nil when there is none).
func recordBlock(ctx context.Context, r *Run, name string, s Spec) (*corev1.ConfigMap, error) {
	block, err := yaml.Marshal(s)
	if err != nil {
		return nil, err
	}
	return setBlock(ctx, r, name, string(block))
}

// forgetBlock takes section name's block out ("" block), and the ConfigMap with the last one.
func forgetBlock(ctx context.Context, r *Run, name string) error {
	_, err := setBlock(ctx, r, name, "")
	return err
}

// setBlock sets (or, with "", removes) one data key with a merge patch, so that sections
// recording at the same time do not conflict; it returns the record as it read it.
func setBlock(ctx context.Context, r *Run, name, block string) (*corev1.ConfigMap, error) {
	var seed *corev1.ConfigMap
	if block != "" {
		seed = &corev1.ConfigMap{Data: map[string]string{name: block}}
	}
	cm, err := readRecord(ctx, r, seed)
	if cm == nil || err != nil {
		return cm, err
	}
	old, had := cm.Data[name]
	if old == block && (had || block == "") {
		return cm, nil
	}
	cms := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	if block == "" && len(cm.Data) == 1 {
		rv := cm.ResourceVersion
		err := cms.Delete(ctx, PlatformRecord, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &rv}})
		if !apierrors.IsConflict(err) {
			return cm, unlessNotFound(err)
		}
	}
	var value any = block
	if block == "" {
		value = nil
	}
	return cm, patchRecord(ctx, r, map[string]any{"data": map[string]any{name: value}})
}

// readRecord returns the PlatformRecord; when it is missing, it is created from seed's data and
// annotations (another section may make it meanwhile: then that one is read), or nil is
// returned when seed is nil.
func readRecord(ctx context.Context, r *Run, seed *corev1.ConfigMap) (*corev1.ConfigMap, error) {
	cms := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	cm, err := cms.Get(ctx, PlatformRecord, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) && seed == nil:
		return nil, nil
	case apierrors.IsNotFound(err):
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: PlatformRecord, Namespace: kube.RecordNamespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": kube.FieldManager}, Annotations: seed.Annotations}, Data: seed.Data}
		if _, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: kube.FieldManager}); !apierrors.IsAlreadyExists(err) {
			return cm, err
		}
		return cms.Get(ctx, PlatformRecord, metav1.GetOptions{}) // another section made it meanwhile
	}
	return cm, err
}

// patchRecord merge-patches the PlatformRecord (a record gone meanwhile is no error).
func patchRecord(ctx context.Context, r *Run, patch map[string]any) error {
	data, _ := json.Marshal(patch)
	_, err := r.Clients.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Patch(ctx, PlatformRecord, types.MergePatchType, data, metav1.PatchOptions{FieldManager: kube.FieldManager})
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
	cm, err := readRecord(ctx, r, nil)
	return pendingIn(cm, name), err
}

// pendingIn tells whether record notes section name's post-conditions as pending.
func pendingIn(record *corev1.ConfigMap, name string) bool {
	return record != nil && record.Annotations[pendingAnnotation(name)] == "true"
}

// setPostConditionsPending notes (or clears) that section name's post-conditions are pending,
// writing only when the note changes; a merge patch of its one annotation, so that sections
// noting at the same time do not conflict.
func setPostConditionsPending(ctx context.Context, r *Run, name string, pending bool) error {
	key := pendingAnnotation(name)
	var seed *corev1.ConfigMap
	if pending {
		seed = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{key: "true"}}}
	}
	cm, err := readRecord(ctx, r, seed)
	if cm == nil || err != nil || pendingIn(cm, name) == pending {
		return err
	}
	var value any = "true"
	if !pending {
		value = nil
	}
	return patchRecord(ctx, r, map[string]any{"metadata": map[string]any{"annotations": map[string]any{key: value}}})
}
