package diff

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// MaskedValue replaces each value of a printed Secret's data.
const MaskedValue = "***"

// Objects is what the run would send, in the order it would send it: each recorded object's
// state after the dry run (a client dry run: the object as it would be sent), without what the
// server writes (see Clean), a Secret's values masked. Objects that would be deleted are left out.
func (r *Recorder) Objects() []*unstructured.Unstructured {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*unstructured.Unstructured
	for _, n := range r.order {
		if o := r.objs[n].merged; o != nil {
			out = append(out, maskValues(o))
		}
	}
	return out
}

// List is Objects as kubectl prints several objects with -o json|yaml: one v1 List.
func (r *Recorder) List() map[string]any {
	items := []any{}
	for _, o := range r.Objects() {
		items = append(items, o.Object)
	}
	return map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{}, "items": items}
}

// maskValues is u, or for a Secret a copy with each data value replaced by MaskedValue (the keys
// stay, so what the Secret holds is visible but not its values).
func maskValues(u *unstructured.Unstructured) *unstructured.Unstructured {
	if !isSecret(u) {
		return u
	}
	c := u.DeepCopy()
	if data, ok := c.Object["data"].(map[string]any); ok {
		for k := range data {
			data[k] = MaskedValue
		}
	}
	return c
}
