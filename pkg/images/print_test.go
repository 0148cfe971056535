package images

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrintFormats(t *testing.T) {
	var l List
	l.Add("quay.io/metallb/speaker:v0.16.1", Source{Section: "lb", Object: "DaemonSet/metallb-system/speaker", Field: "spec.template.spec.containers[speaker].image", Origin: PodSpec})
	l.Add("busybox:stable", Source{Section: "storage", Object: "Pod/nfs/smoke", Field: "spec.containers[test-pod].image", Origin: Plugin})
	l.Add("busybox:stable", Source{Section: "kubeflow", Object: "ConfigMap/kubeflow/x", Field: "data[image]", Origin: Config, Note: "why"})
	imgs := l.Images()
	for format, want := range map[string][]string{
		"table": {"IMAGE", "SECTION", "ORIGIN", "FOUND IN", "busybox:stable", "storage,kubeflow", "plugin,config", "Pod/nfs/smoke (+1)"},
		"wide":  {"OBJECT", "FIELD", "NOTE", "ConfigMap/kubeflow/x", "data[image]", "why", "spec.template.spec.containers[speaker].image"},
		"text":  {"busybox:stable\nquay.io/metallb/speaker:v0.16.1\n"},
		"json":  {`"kind": "ImageList"`, `"image": "busybox:stable"`, `"origin": "plugin"`, `"notes": [`},
		"yaml":  {"kind: ImageList", "- image: busybox:stable"},
	} {
		var out bytes.Buffer
		if err := Print(&out, format, imgs, []string{"tls: runs no workload of its own"}); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("-o %s lacks %q:\n%s", format, w, out.String())
			}
		}
	}
	var wide bytes.Buffer
	_ = Print(&wide, "wide", imgs, nil)
	if n := strings.Count(wide.String(), "\n"); n != 4 {
		t.Errorf("-o wide: %d lines, want a header and one per place (3)", n)
	}
}
