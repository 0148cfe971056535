package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestKubeflowV15PreflightOnCurrentKubernetes: v1.5.0 on Kubernetes 1.37 stops with exit 2 before
// any download or change, naming the APIs it needs that 1.22 removed and the release that installs
// here, and creates no namespace.
func TestKubeflowV15PreflightOnCurrentKubernetes(t *testing.T) {
	url := kubeflowArchiveURL(t, "1.5.0")
	c := testbed.StartT(t, testbed.Options{})
	before := namespaceNames(t, c)
	r := runPlugin(t, c, "kubeflow", "--version", "v1.5.0", "--manifests", url)
	if r.code != 2 {
		t.Fatalf("want exit 2, got %d", r.code)
	}
	for _, want := range []string{"kubeflow: --version: Kubeflow v1.5.0 cannot be installed on Kubernetes v1.37.2", "apiextensions.k8s.io/v1beta1 CRDs, admissionregistration.k8s.io/v1beta1 webhooks", "removed in Kubernetes 1.22", "the release that installs here: --version 26.03"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("preflight message lacks %q", want)
		}
	}
	if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("preflight failure changed the namespaces: %v -> %v", before, after)
	}
}

// TestKubeflowV15OnRunbookCluster installs v1.5.0 with every edit on Kubernetes 1.21 (the
// runbook's cluster) in one run: cert-manager's v1alpha2 objects go in at v1 without the
// conversion webhook, the aggregated ClusterRoles without conflicts; a second run changes nothing;
// then every suite registered with onKubeflowBed runs on the same bed.
func TestKubeflowV15OnRunbookCluster(t *testing.T) {
	if _, err := testbed.FindBinDir(testbed.V121); err != nil {
		t.Skipf("Kubernetes %s test bed binaries absent (hack/testbin.sh builds them): %v", testbed.V121, err)
	}
	url := kubeflowArchiveURL(t, "1.5.0")
	hooks := standins.NewAdmissionWebhooks(webhookDelay)
	c := testbed.StartT(t, testbed.Options{Version: testbed.V121, Webhooks: true, StandIns: []testbed.StandIn{standins.NewNFSProvisioner(), hooks}})
	nfsStandInStorage(t, c)
	pristine := settledClusterObjects(t, c) // what the uninstall must leave as it was
	// The static user stays beside the GitHub connector: its password is generated.
	args := append(append([]string{"kubeflow"}, kubeflowEditArgs(t, "1.5.0", url)...), "--enable-password-db", "-o", "json", "--timeout", "25m")
	r := runPlugin(t, c, args...)
	first := r
	if r.code != 0 {
		t.Fatalf("first run: exit %d", r.code)
	}
	if strings.Contains(r.stdout+r.stderr, kfGitHubSecret) {
		t.Fatal("the GitHub client secret was printed")
	}
	rep := kfReport(t, r)
	assertWebhookRace(t, hooks)
	converted := 0
	for _, n := range rep.Notes {
		if strings.Contains(n, "storage version") {
			converted++
		}
	}
	if converted != 4 {
		t.Fatalf("want the 4 cert-manager v1alpha2 objects applied at v1, notes: %v", rep.Notes)
	}
	// --oidc-provider https://...: authservice waits for HTTPS, so kubeflow does not wait for it
	// and names the next step.
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "run `kubectl flexigrobots tls --domain ...` next") {
		t.Errorf("no note that tls is the next step: %v", rep.Notes)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	certs, err := dyn.Resource(schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}).List(context.Background(), metav1.ListOptions{})
	if err != nil || len(certs.Items) == 0 {
		t.Fatalf("no cert-manager Certificates (%v)", err)
	}
	p, _ := kubeflow.ProfileFor("v1.5.0")
	if oidc, err := kubeflow.LiveClientSecret(context.Background(), c.Client, p); err != nil || oidc == "" || oidc == kubeflow.PublicClientSecret {
		t.Fatalf("OIDC client secret not replaced (%v)", err)
	}
	r = runPlugin(t, c, args...)
	if r.code != 0 {
		t.Fatalf("second run: exit %d", r.code)
	}
	assertNoPublishedCredentials(t, c, p, true, first, r)
	if !strings.Contains(first.stdout+first.stderr, "dex static user user@example.com: password generated") || !strings.Contains(r.stdout+r.stderr, "dex static user user@example.com: password kept") {
		t.Error("the static user's password note does not say generated on the first run and kept on the second")
	}
	for _, x := range kfReport(t, r).Results {
		if x.Action != output.Unchanged {
			t.Errorf("second run: %s %s/%s %s", x.Kind, x.Namespace, x.Name, x.Action)
		}
	}
	// v1.5.0's pipelines cache-deployer asks the cluster's CA for certificates: its build is the
	// one whose converge probes CSR signing, and remembers a pass.
	assertCSRProbeRemembered(t, c, args[1:])
	// Shipped with caBundle "" (and "Cg==" for KServe's): the injector's CA stays.
	assertCAInjected(t, c, hooks, "admission-webhook-mutating-webhook-configuration")
	assertCAInjected(t, c, hooks, "inferenceservice.serving.kserve.io")
	runBedSuites(t, c, "v1.5.0")
	// No in-place path off the runbook's release: the way off it, exit 2, before any download.
	names := namespaceNames(t, c)
	r = runPlugin(t, c, "kubeflow", "--version", "v1.10.2")
	for _, want := range []string{"Kubeflow v1.5.0 is installed (the apply record kube-system/flexigrobots-applied-kubeflow names it) and cannot be upgraded in place to v1.10.2",
		"Kubernetes 1.22 removed", "Move to a new cluster", "README: Upgrading"} {
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("kubeflow --version v1.10.2 over v1.5.0: exit %d, stderr lacks %q", r.code, want)
		}
	}
	if after := namespaceNames(t, c); strings.Join(after, ",") != strings.Join(names, ",") || recordedRelease(t, c) != "v1.5.0" {
		t.Errorf("the refused upgrade changed something: namespaces %v -> %v, record names %q", names, after, recordedRelease(t, c))
	}
	assertExportRecreates(t, c)
	assertPlatformExported(t, c, "v1.5.0", append(slices.Clone(args), "--wait=false"))
	assertKubeflowUninstalls(t, c, pristine)
}
