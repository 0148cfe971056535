package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// RecordNamespace holds the apply records of SkipUnchanged (one ConfigMap per section).
const RecordNamespace = "kube-system"

// recordKey is the ConfigMap data key of the record (JSON: ref -> applied state).
const recordKey = "applied.json"

// appliedState is what the Applier knows about one object after applying it: the hash of what it
// sent and the hash of the field set our apply owns (our managedFields entry).
type appliedState struct {
	Hash   string `json:"h"`
	Fields string `json:"f"`
}

// record is the skip path of a re-run: an object is skipped when its desired state hashes the
// same as at our last apply and the field set our apply owns (from the metadata-only LIST the
// engine makes anyway) is still the one our apply left. Server-side apply moves a field away
// from our entry when another writer changes or removes it, so an unchanged entry means none of
// our fields was touched; writers of other fields (status, a Deployment's revision annotation,
// aggregated ClusterRole rules) do not make us re-apply. Anything else is applied as usual.
// Secrets are never recorded (no hash of secret data is kept) and always applied.
type record struct {
	name string
	mu   sync.Mutex
	old  map[string]appliedState
	next map[string]appliedState
}

// RecordName is the ConfigMap in RecordNamespace holding the section's apply record.
func RecordName(section string) string {
	if section == "" {
		section = "default"
	}
	return "flexigrobots-applied-" + section
}

// RecordedCRDs names the CustomResourceDefinitions the section's apply record holds (what its
// applies sent and kept track of).
func (a *Applier) RecordedCRDs(ctx context.Context) []string {
	var out []string
	for ref := range a.loadRecord(ctx).old {
		if name, ok := strings.CutPrefix(ref, "CustomResourceDefinition.apiextensions.k8s.io "); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// ForgetRecord deletes the section's apply record (an uninstall of a section that is no ApplySet
// but skips what its record says is unchanged); absent is fine, a dry run deletes nothing.
func (a *Applier) ForgetRecord(ctx context.Context) error {
	if a.DryRun != "" && a.DryRun != core.DryRunNone {
		return nil
	}
	err := Retry(ctx, func(ctx context.Context) error {
		err := a.Client.CoreV1().ConfigMaps(RecordNamespace).Delete(ctx, RecordName(a.Section), metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%sdelete the apply record %s/%s: %w", a.prefix(), RecordNamespace, RecordName(a.Section), err)
	}
	return nil
}

func (a *Applier) loadRecord(ctx context.Context) *record {
	r := &record{name: RecordName(a.Section), old: map[string]appliedState{}, next: map[string]appliedState{}}
	cm, err := a.Client.CoreV1().ConfigMaps(RecordNamespace).Get(ctx, r.name, metav1.GetOptions{})
	if err == nil {
		_ = json.Unmarshal([]byte(cm.Data[recordKey]), &r.old)
	}
	return r
}

// desiredHash hashes the prepared object (canonically: see valueHash).
func desiredHash(o *unstructured.Unstructured) string {
	return valueHash(o.Object)
}

func recordable(o *unstructured.Unstructured) bool {
	return !IsSecret(o)
}

// skip tells whether it may be left alone; it records the state either way.
func (a *Applier) skip(ctx context.Context, r *record, it *item) bool {
	if r == nil || !recordable(it.obj) || (a.Unrecorded != nil && a.Unrecorded(it.obj)) {
		return false
	}
	// Map first: it defaults the namespace, which the hash and the ref must include.
	m, err := a.itemMapping(it)
	if err != nil {
		return false
	}
	it.hash = desiredHash(it.obj)
	if a.ForceApply {
		return false // applied, and recorded as it is sent
	}
	ref := Ref(it.obj)
	prev, ok := r.old[ref]
	if !ok || prev.Hash != it.hash {
		return false
	}
	md, err := a.live.meta(ctx, a.Clients, m.Resource, it.obj.GetNamespace(), it.obj.GetName())
	if err != nil || md == nil || prev.Fields == "" || ownedFields(md.ManagedFields, a.FieldManager) != prev.Fields {
		return false
	}
	r.set(ref, prev)
	return true
}

func (r *record) set(ref string, s appliedState) {
	r.mu.Lock()
	r.next[ref] = s
	r.mu.Unlock()
}

func (r *record) drop(ref string) {
	r.mu.Lock()
	delete(r.next, ref)
	r.mu.Unlock()
}

// save writes the record when it changed. Objects that failed keep no entry (applied next time).
func (a *Applier) saveRecord(ctx context.Context, r *record) error {
	if r == nil {
		return nil
	}
	if len(r.next) == len(r.old) {
		same := true
		for k, v := range r.next {
			if r.old[k] != v {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	b, err := json.Marshal(r.next)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: r.name, Namespace: RecordNamespace, Labels: map[string]string{ManagedByLabel: FieldManager}},
		Data:       map[string]string{recordKey: string(b)},
	}
	cms := a.Client.CoreV1().ConfigMaps(RecordNamespace)
	return Retry(ctx, func(ctx context.Context) error {
		live, err := cms.Get(ctx, r.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{FieldManager: a.FieldManager})
			return err
		}
		if err != nil {
			return err
		}
		live.Data = cm.Data
		_, err = cms.Update(ctx, live, metav1.UpdateOptions{FieldManager: a.FieldManager})
		return err
	})
}

// ownedFields hashes the field set manager owns through apply (not a subresource); "" when it
// owns none. The field set is hashed with its keys sorted: the server sends them in its own order
// (a typed or metadata-only read), an unstructured object's managedFields come out sorted, and
// the same set must hash the same from either.
func ownedFields(entries []metav1.ManagedFieldsEntry, manager string) string {
	for _, e := range entries {
		if e.Manager == manager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" && e.FieldsV1 != nil {
			var set map[string]any
			if err := json.Unmarshal(e.FieldsV1.Raw, &set); err != nil {
				sum := sha256.Sum256(e.FieldsV1.Raw)
				return hex.EncodeToString(sum[:16])
			}
			return valueHash(set) // canonical: the server may list the fields in another order
		}
	}
	return ""
}

// RecordRules are what the apply record of section needs (SkipUnchanged): read, create and
// update its ConfigMap in RecordNamespace, and delete it (uninstall).
func RecordRules(section string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		access.Rule("", []string{"configmaps"}, "get", "create"),
		access.Named("", []string{"configmaps"}, []string{RecordName(section)}, "update", "delete"),
	}
}

// LeftoversRules are what Leftovers needs: a release's namespace read and deleted, once a LIST
// of every kind in it (metadata only, but RBAC knows no such thing: read access to every kind)
// found nothing left; the crds/ CRDs read and deleted once no custom resource of theirs is left.
var LeftoversRules = []rbacv1.PolicyRule{
	access.Rule("", []string{"namespaces"}, "get", "delete"),
	access.Rule("*", []string{"*"}, "list"),
	access.Rule("apiextensions.k8s.io", []string{"customresourcedefinitions"}, "get", "delete"),
}
