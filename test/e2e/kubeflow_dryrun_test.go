package e2e

import (
	"context"
	"encoding/base64"
	"maps"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// assertClientDryRun runs kubeflow's client dry runs on the applied platform (args are the
// apply's flags, rendered its objects, state their resourceVersions, oidc the live OIDC client
// secret): the table says unchanged for what the apply record lets it skip, -o yaml prints what
// it would send with Secret values masked, and nothing is written.
func assertClientDryRun(t *testing.T, c *testbed.Cluster, args []string, rendered []*unstructured.Unstructured, state map[string]string, oidc string) {
	t.Helper()
	ctx := context.Background()
	// A client dry run on the applied platform: what the last apply left as it is reports
	// unchanged (Secrets are never recorded, so they read as configured); nothing is written.
	recordRV := func() string {
		cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the kubeflow apply record: %v", err)
		}
		return cm.ResourceVersion
	}
	recordBefore := recordRV()
	r := runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "--dry-run=client")...)
	if r.code != 0 {
		t.Fatalf("client dry run: exit %d", r.code)
	}
	// Only what the apply record holds can read unchanged, and most of it does: the rest (a
	// field another writer touched since, e.g. on the webhook Deployments and Services; Secrets;
	// the objects tls shares) cannot be judged without the server and reads configured.
	recorded := appliedRecord(t, c, "kubeflow")
	byLine := map[string]string{} // "kind/name namespace" -> kube.Ref
	for _, o := range rendered {
		byLine[strings.ToLower(o.GetKind())+"/"+o.GetName()+" "+o.GetNamespace()] = kube.Ref(o)
	}
	unchanged := 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		fields := strings.Fields(line)
		ns := ""
		if _, rest, ok := strings.Cut(line, "[namespace "); ok {
			ns = strings.TrimRight(strings.SplitN(rest, ",", 2)[0], "]")
		}
		ref := byLine[fields[0]+" "+ns]
		switch {
		case !strings.Contains(line, " (client dry run)"):
			t.Errorf("client dry run: %q is not marked as a client dry run", line)
		case fields[1] != output.Unchanged:
		case !recorded[ref]:
			t.Errorf("client dry run: %q, but %q is not in the apply record", line, ref)
		default:
			unchanged++
		}
	}
	if unchanged < len(recorded)*9/10 {
		t.Errorf("client dry run: %d unchanged of the %d objects the apply record holds, want most", unchanged, len(recorded))
	}
	if again := liveState(t, c, rendered); !maps.Equal(state, again) {
		t.Error("the client dry run moved a resourceVersion")
	}
	if recordRV() != recordBefore {
		t.Error("the client dry run wrote the apply record")
	}
	// With -o yaml the dry run prints what it would send, as kubectl does: here the Secrets (never
	// recorded, so always sent), their values masked.
	r = runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "--dry-run=client", "-o", "yaml")...)
	if r.code != 0 {
		t.Fatalf("client dry run -o yaml: exit %d", r.code)
	}
	secrets := 0
	for _, o := range listItems(t, r.stdout) {
		if o.GetKind() != "Secret" {
			continue
		}
		secrets++
		data, _, _ := unstructured.NestedStringMap(o.Object, "data")
		for k, v := range data {
			if v != "***" {
				t.Errorf("Secret %s/%s key %s printed unmasked", o.GetNamespace(), o.GetName(), k)
			}
		}
	}
	if secrets == 0 {
		t.Error("client dry run -o yaml listed no Secret")
	}
	for _, v := range []string{oidc, base64.StdEncoding.EncodeToString([]byte(oidc)), kfGitHubSecret, base64.StdEncoding.EncodeToString([]byte(kfGitHubSecret))} {
		if strings.Contains(r.stdout+r.stderr, v) {
			t.Fatal("client dry run -o yaml printed a secret value")
		}
	}
}
