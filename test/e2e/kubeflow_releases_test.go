package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestKubeflowV111RemoteBases: Kubeflow v1.11.0, given on Kubernetes 1.33 (an apiserver-only bed
// of its own: upstream states 1.34, its bounds allow 1.29 on, so a warning), with its remote
// kustomize bases from a mirror. A mirror whose argo-workflows archive differs from the pin is
// refused naming both digests, before any change; the real bytes install (server-side apply of
// the whole build, --wait=false) and the re-run is unchanged; a password set by hand in the
// static user's Secret is hashed by the next run. The plugin runs with an empty PATH:
// no git binary (or any other) can resolve a base for it.
func TestKubeflowV111RemoteBases(t *testing.T) {
	c := testbed.StartT(t, testbed.Options{Version: testbed.V133, APIServerOnly: true})
	t.Setenv("PATH", t.TempDir())
	if git, err := exec.LookPath("git"); err == nil {
		t.Fatalf("git still on PATH: %s", git)
	}
	createClass(t, c, "nfs-client", cluster.DefaultClassAnnotation)
	url := kubeflowArchiveURL(t, "1.11.0")
	good := testbed.Fixture(t, "kubeflow/remote")

	// The same archive content, gzipped again: other bytes than GitHub's, so not the pinned ones.
	bad := t.TempDir()
	for _, name := range []string{"argo-workflows-3.7.3.tar.gz", "lws-0.7.0.tar.gz", "jobset-v0.10.1-manifests.yaml"} {
		data, err := os.ReadFile(filepath.Join(good, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "argo-workflows") {
			data = regzip(t, data)
		}
		if err := os.WriteFile(filepath.Join(bad, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before := namespaceNames(t, c)
	r := runPlugin(t, c, "kubeflow", "--version", "v1.11.0", "--manifests", url, "--remote-bases-mirror", bad, "--wait=false")
	if r.code == 0 || !strings.Contains(r.stderr, "971f797616aea76d835a239346275ae1122fe0396ca485c1f41828f03317333e") {
		t.Fatalf("a mirror with other bytes than the pin: exit %d, want a refusal naming the pinned digest:\n%s", r.code, r.stderr)
	}
	if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("the refused run changed the namespaces: %v -> %v", before, after)
	}

	args := []string{"kubeflow", "--version", "v1.11.0", "--manifests", url, "--remote-bases-mirror", good, "--wait=false"}
	r = runPlugin(t, c, args...)
	if r.code != 0 {
		t.Fatalf("v1.11.0 on 1.33: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Kubeflow v1.11.0 is not stated for Kubernetes 1.33", "remote base", "pinned"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	r = runPlugin(t, c, append(args, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("re-run: exit %d", r.code)
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != "unchanged" {
			t.Errorf("re-run: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}

	// A password the user sets by hand in the static user's Secret: the next run hashes it (the
	// remembered answer of the last compare is for the Secret as it was), and the run after is
	// unchanged again.
	ctx := context.Background()
	const byHand = "a-password-set-by-hand"
	patch := fmt.Sprintf(`{"stringData":{"password":%q}}`, byHand)
	if _, err := c.Client.CoreV1().Secrets(kubeflow.DexUserNamespace).Patch(ctx, kubeflow.DexUserSecret, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	r = runPlugin(t, c, append(args, "-o", "json")...)
	if r.code != 0 {
		t.Fatalf("run after the password was set by hand: exit %d\n%s", r.code, r.stderr)
	}
	p, _ := kubeflow.ProfileFor("v1.11.0")
	changed := map[string]string{}
	for _, x := range kfReport(t, r).Results {
		if x.Action != "unchanged" {
			changed[x.Kind+" "+x.Namespace+"/"+x.Name] = x.Action
		}
	}
	if _, ok := changed["Secret "+p.DexHash.Namespace+"/"+p.DexHash.Name]; !ok {
		t.Errorf("a new password by hand: want Secret %s/%s changed, got %v", p.DexHash.Namespace, p.DexHash.Name, changed)
	}
	hashes, err := c.Client.CoreV1().Secrets(p.DexHash.Namespace).Get(ctx, p.DexHash.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword(hashes.Data[p.DexHash.Key], []byte(byHand)) != nil {
		t.Error("dex's hash does not verify the password set by hand")
	}
	if !strings.Contains(r.stdout, "password kept") {
		t.Errorf("the run's report does not say the password was kept:\n%s", r.stdout)
	}
	r = runPlugin(t, c, append(args, "-o", "json")...)
	for _, x := range kfReport(t, r).Results {
		if r.code != 0 || x.Action != "unchanged" {
			t.Errorf("the run after: exit %d, %s %s/%s %s", r.code, x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
}

// regzip returns the gzip stream data holds, compressed again (same content, other bytes).
func regzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
