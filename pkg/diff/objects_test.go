package diff

import (
	"encoding/base64"
	"testing"
)

func TestObjectsInSendOrderMaskedWithoutDeletions(t *testing.T) {
	r := NewRecorder()
	r.Record(nil, obj("ConfigMap", "a", "first", map[string]any{"data": map[string]any{"k": "v"}, "status": map[string]any{"x": "1"}}))
	r.Record(nil, obj("Secret", "a", "creds", map[string]any{
		"data":       map[string]any{"password": base64.StdEncoding.EncodeToString([]byte("hunter2"))},
		"stringData": map[string]any{"token": "s3cr3t"},
	}))
	r.Record(obj("ConfigMap", "a", "gone", nil), nil)
	r.Record(obj("ConfigMap", "a", "first", nil), obj("ConfigMap", "a", "first", map[string]any{"data": map[string]any{"k": "w"}}))

	objs := r.Objects()
	if len(objs) != 2 || objs[0].GetName() != "first" || objs[1].GetName() != "creds" {
		t.Fatalf("want first, creds (the deletion left out, first kept in its first place), got %d objects", len(objs))
	}
	if v := objs[0].Object["data"].(map[string]any)["k"]; v != "w" {
		t.Errorf("recording again did not replace the object: k=%v", v)
	}
	if objs[0].GetResourceVersion() != "" || objs[0].Object["status"] != nil {
		t.Error("server-set metadata or status printed")
	}
	data := objs[1].Object["data"].(map[string]any)
	if len(data) != 2 || data["password"] != MaskedValue || data["token"] != MaskedValue || objs[1].Object["stringData"] != nil {
		t.Errorf("Secret values not all masked (stringData folded into data): %v", objs[1].Object)
	}
	if l := r.List(); l["kind"] != "List" || len(l["items"].([]any)) != 2 {
		t.Errorf("List: %v", l)
	}
}
