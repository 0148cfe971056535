package apply

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images/mirror"
)

func TestReadList(t *testing.T) {
	refs, err := readList("-", strings.NewReader("# the platform's images\n\nbusybox:stable\n  ghcr.io/a/b:1  \n"))
	if err != nil || strings.Join(refs, ",") != "busybox:stable,ghcr.io/a/b:1" {
		t.Fatalf("%v %v", refs, err)
	}
	for name, in := range map[string]string{"two on a line": "a:1 b:2\n", "nothing": "# only a comment\n\n"} {
		if _, err := readList("-", strings.NewReader(in)); !core.IsUsageError(err) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
}

func TestPrintMirror(t *testing.T) {
	res := []mirror.Result{
		{Image: "busybox:stable", Target: "reg.example/ai/library/busybox:stable", Digest: "sha256:aa", Action: mirror.Copied},
		{Image: "ghcr.io/a/b:1", Target: "reg.example/ai/a/b:1", Action: mirror.Failed, Error: "pull: 404"},
	}
	var table, js bytes.Buffer
	if err := printMirror(&table, "table", res); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"IMAGE", "TARGET", "RESULT", "DIGEST", "reg.example/ai/library/busybox:stable", "copied", "sha256:aa", "failed"} {
		if !strings.Contains(table.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, table.String())
		}
	}
	if err := printMirror(&js, "json", res); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"kind": "ImageMirrorResult"`, `"action": "failed"`, `"error": "pull: 404"`} {
		if !strings.Contains(js.String(), w) {
			t.Errorf("json lacks %q:\n%s", w, js.String())
		}
	}
}
