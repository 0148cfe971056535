package e2e

import (
	"context"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// withoutGitHub drops the --github-* flags (and their values) from kubeflow's args.
func withoutGitHub(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if strings.HasPrefix(args[i], "--github-") {
			i++ // its value
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// assertKubeflowPrunes: the members of the set are what kubectl lists by the ApplySet label;
// dropping the GitHub flags prunes Secret auth/dex-github-client (a dry run first says so and
// deletes nothing); an object made by hand in a Kubeflow namespace survives; the flags back
// restore the connector and its Secret and prune the static user's.
func assertKubeflowPrunes(t *testing.T, c *testbed.Cluster, args []string, first output.Report) {
	t.Helper()
	ctx := context.Background()
	selector := metav1.ListOptions{LabelSelector: "applyset.kubernetes.io/part-of=" + kube.ApplySetID("kubeflow")}
	deps, err := c.Client.AppsV1().Deployments("").List(ctx, selector)
	if err != nil {
		t.Fatal(err)
	}
	var listed, reported []string
	for _, d := range deps.Items {
		listed = append(listed, d.Namespace+"/"+d.Name)
	}
	for _, x := range first.Results {
		if x.Kind == "Deployment" {
			reported = append(reported, x.Namespace+"/"+x.Name)
		}
	}
	sort.Strings(listed)
	sort.Strings(reported)
	if len(listed) == 0 || strings.Join(listed, ",") != strings.Join(reported, ",") {
		t.Fatalf("kubectl get deployments -l part-of lists %d, the plugin applied %d: %v vs %v", len(listed), len(reported), listed, reported)
	}
	mine := &metav1.ObjectMeta{Name: "made-by-hand", Namespace: "auth"}
	if _, err := c.Client.CoreV1().ConfigMaps("auth").Create(ctx, &corev1.ConfigMap{ObjectMeta: *mine}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	noGH := withoutGitHub(args)
	dry := runPlugin(t, c, append(append([]string{"kubeflow"}, noGH...), "--dry-run=server", "--wait=false")...)
	if dry.code != 0 || !strings.Contains(dry.stdout, "secret/dex-github-client pruned (server dry run)") {
		t.Fatalf("server dry run without the GitHub flags: exit %d, want the GitHub Secret reported as pruned", dry.code)
	}
	if _, err := c.Client.CoreV1().Secrets("auth").Get(ctx, kubeflow.GitHubSecretName, metav1.GetOptions{}); err != nil {
		t.Fatalf("the dry run deleted the GitHub Secret: %v", err)
	}
	r := runPlugin(t, c, append(append([]string{"kubeflow"}, noGH...), "-o", "json", "--timeout", "20m")...)
	if r.code != 0 {
		t.Fatalf("without the GitHub flags: exit %d", r.code)
	}
	var pruned []string
	for _, x := range kfReport(t, r).Results {
		if x.Action == kube.Pruned {
			pruned = append(pruned, x.Kind+" "+x.Namespace+"/"+x.Name)
		}
	}
	if strings.Join(pruned, ",") != "Secret auth/"+kubeflow.GitHubSecretName {
		t.Fatalf("pruned %v, want exactly the GitHub client Secret", pruned)
	}
	if _, err := c.Client.CoreV1().Secrets("auth").Get(ctx, kubeflow.GitHubSecretName, metav1.GetOptions{}); err == nil {
		t.Fatal("Secret auth/dex-github-client is still there")
	}
	cm, err := c.Client.CoreV1().ConfigMaps("auth").Get(ctx, "dex", metav1.GetOptions{})
	if err != nil || strings.Contains(cm.Data["config.yaml"], "type: github") {
		t.Fatalf("dex config keeps the GitHub connector (%v)", err)
	}
	if _, err := c.Client.CoreV1().ConfigMaps("auth").Get(ctx, mine.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("the ConfigMap made by hand was pruned: %v", err)
	}
	// Back with the connector: the static user (on without a connector) goes, its Secret pruned.
	r = runPlugin(t, c, append(append([]string{"kubeflow"}, args...), "-o", "json", "--timeout", "20m")...)
	if r.code != 0 {
		t.Fatalf("the GitHub flags back: exit %d", r.code)
	}
	pruned = nil
	for _, x := range kfReport(t, r).Results {
		if x.Action == kube.Pruned {
			pruned = append(pruned, x.Kind+" "+x.Namespace+"/"+x.Name)
		}
	}
	if strings.Join(pruned, ",") != "Secret "+kubeflow.DexUserNamespace+"/"+kubeflow.DexUserSecret {
		t.Fatalf("pruned %v, want exactly the static user's Secret", pruned)
	}
	if _, err := c.Client.CoreV1().Secrets("auth").Get(ctx, kubeflow.GitHubSecretName, metav1.GetOptions{}); err != nil {
		t.Fatalf("the GitHub Secret is not back: %v", err)
	}
}
