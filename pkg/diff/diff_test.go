package diff

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func obj(kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": ns, "resourceVersion": "7", "uid": "u-1",
			"managedFields": []any{map[string]any{"manager": "x"}}}}}
	for k, v := range fields {
		u.Object[k] = v
	}
	return u
}

func write(t *testing.T, r *Recorder) (string, bool) {
	t.Helper()
	var out, errOut bytes.Buffer
	changed, err := r.Write(genericiooptions.IOStreams{Out: &out, ErrOut: &errOut})
	if err != nil {
		t.Fatalf("Write: %v (stderr %q)", err, errOut.String())
	}
	return out.String(), changed
}

func TestWriteShowsOnlyChangesAndMasksSecrets(t *testing.T) {
	r := NewRecorder()
	same := obj("ConfigMap", "a", "same", map[string]any{"data": map[string]any{"k": "v"}, "status": map[string]any{"x": "1"}})
	sameAfter := same.DeepCopy()
	sameAfter.SetResourceVersion("8") // server-set metadata is left out
	unstructured.SetNestedField(sameAfter.Object, "2", "status", "x")
	r.Record(same, sameAfter)
	r.Record(obj("ConfigMap", "a", "cm", map[string]any{"data": map[string]any{"k": "old-value"}}),
		obj("ConfigMap", "a", "cm", map[string]any{"data": map[string]any{"k": "new-value"}}))
	r.Record(nil, obj("ConfigMap", "a", "brand-new", map[string]any{"data": map[string]any{"num": "1"}}))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	r.Record(obj("Secret", "a", "s", map[string]any{"data": map[string]any{"password": b64("hunter2-old")}}),
		obj("Secret", "a", "s", map[string]any{"data": map[string]any{"password": b64("hunter2-new")}}))
	r.Record(nil, obj("Secret", "a", "new-secret", map[string]any{"stringData": map[string]any{"token": "plain-token-value"}}))
	r.Record(obj("Secret", "a", "gone", map[string]any{"data": map[string]any{"key": b64("gone-value")}}), nil)

	out, changed := write(t, r)
	if !changed {
		t.Fatalf("changed = false; want true; diff:\n%s", out)
	}
	for _, want := range []string{"-  k: old-value", "+  k: new-value", "+  num: \"1\"", "+++ ",
		"-  password: '*** (before)'", "+  password: '*** (after)'", "+  token: '***'", "-  key: '***'",
		"v1.ConfigMap.a.brand-new", "v1.Secret.a.gone"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{"hunter2", b64("hunter2-old"), b64("hunter2-new"), "plain-token-value", b64("plain-token-value"), b64("gone-value"),
		"v1.ConfigMap.a.same", "managedFields", "resourceVersion", "uid:", "status"} {
		if strings.Contains(out, leak) {
			t.Errorf("diff shows %q:\n%s", leak, out)
		}
	}
}

func TestWriteNothingChanged(t *testing.T) {
	r := NewRecorder()
	cm := obj("ConfigMap", "a", "cm", map[string]any{"data": map[string]any{"k": "v"}})
	r.Record(cm, cm.DeepCopy())
	out, changed := write(t, r)
	if changed || out != "" {
		t.Fatalf("changed = %v, output %q; want false and nothing", changed, out)
	}
	if out, changed := write(t, NewRecorder()); changed || out != "" {
		t.Fatalf("empty recorder: changed = %v, output %q", changed, out)
	}
}

func TestNilRecorderIgnoresRecords(t *testing.T) {
	var r *Recorder
	r.Record(nil, obj("ConfigMap", "a", "cm", nil)) // must not panic: clients without --diff
}
