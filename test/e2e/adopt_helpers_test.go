package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// runbookCase is what the runbook's steps use on one test bed.
type runbookCase struct {
	// bed is the Kubernetes version of the test bed.
	bed string
	// kubeflow is the manifests release (archive name, no "v"); metallb and gpuOperator the
	// chart versions the plugin picks there, installed by hand at the same versions.
	kubeflow, metallb, gpuOperator string
	// kubeflowApply are the flags of the Kubeflow build's `kubectl apply`: none (client-side) as
	// the runbook says for v1.5.0; v1.10.2's CRDs are too large for client-side apply
	// ("metadata.annotations: Too long"), so there it is `--server-side --force-conflicts`, as
	// that release's README says.
	kubeflowApply string
}

// handBed is a test bed with the runbook's files and the helm and kubectl a person runs.
type handBed struct {
	*platformBed
	kubectl, helm string
	// env is the environment of every hand command: the tools on PATH, the bed's kubeconfig,
	// helm's folders inside the test's own.
	env []string
}

// newHandBed writes the secret file, the certificate and the runbook's YAML files into a
// platformBed's folder and finds the tools: the kubectl of the 1.37 bed binaries (the only one
// built; its kustomize is v5) and the helm of the tools folder beside them.
func newHandBed(t *testing.T, c *testbed.Cluster, repo, kfURL string) *handBed {
	t.Helper()
	bin, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(filepath.Dir(bin), "tools")
	if _, err := os.Stat(filepath.Join(tools, "helm")); err != nil {
		t.Skipf("helm absent beside the test-bed binaries (make testbin puts it there): %v", err)
	}
	b := &handBed{platformBed: newPlatformBed(t, c, repo, kfURL), kubectl: testbed.Kubectl(t), helm: filepath.Join(tools, "helm")}
	helmHome := t.TempDir()
	b.env = c.Env("PATH="+bin+":"+tools+":"+os.Getenv("PATH"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"), "HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"))
	files := map[string]string{
		// The runbook's MetalLB block, saved as a file.
		"metallb-pool.yaml": `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: ai-platform-pool
  namespace: metallb-system
spec:
  addresses:
  - ` + bedLBAddress + `
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: ai-platform
  namespace: metallb-system
`,
		// deployment/031-gw_https_manual_certificates.yaml is not in the runbook's text: this is
		// Kubeflow's Gateway with the HTTPS server the file's tls block asks for (its domain and
		// the Secret the runbook creates).
		"gw_https_manual_certificates.yaml": `apiVersion: networking.istio.io/v1alpha3
kind: Gateway
metadata:
  name: kubeflow-gateway
  namespace: kubeflow
spec:
  selector:
    istio: ingressgateway
  servers:
  - hosts:
    - '*'
    port:
      name: http
      number: 80
      protocol: HTTP
  - hosts:
    - kubeflow.example.com
    port:
      name: https
      number: 443
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: kubeflow-domain-man-cert
`,
		"pod_default_multiuser.yaml": strings.Replace(testbed.RunbookPodDefault, "<YOUR_USER_PROFILE_NAMESPACE>", exampleProfile, 1),
		// deployment/gpu-time-slicing-config.yaml with the runbook's <4>.
		"gpu-time-slicing-config.yaml": "version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// runbookSteps is the runbook's sections as a person runs them, in its order, with its verbs:
// helm install + kubectl patch of the default class; helm install of MetalLB and the pool by
// client-side kubectl apply; the Kubeflow manifests (the release archive instead of git clone +
// checkout) with the runbook's edits (params.env's OIDC_PROVIDER or, from v1.9, oauth2-proxy's
// oidc_issuer_url; CD_REGISTRATION_FLOW=true; the ingress Service's type in kubeflow.yaml made
// LoadBalancer), built with `kubectl kustomize example` and applied again until it succeeds;
// kubectl create secret tls + the HTTPS Gateway by kubectl apply; the PodDefault by kubectl
// apply; gpu-operator by helm install --generate-name, the time-slicing ConfigMap by kubectl
// create, then helm upgrade of the generated release. The runbook's dex edit (a GitHub connector
// with its client secret inline in the ConfigMap) is left out: the plugin keeps that secret in a
// Secret, so no file setting asks for that ConfigMap; the dex variant of the test edits it.
//
// Two changes to what a person would type, each for the test bed: v1.10.2's user Profile keeps
// kustomize v5's unfilled $(profile-name) (an invalid name: a person fills it from params.env,
// as here), and v1.5.0's four cert-manager objects at v1alpha2 are sent at v1, their storage
// version with identical fields, because the test bed serves no CRD conversion webhook (the
// plugin's build does the same). Each step's end is marked in phases.txt, each retried apply's
// number of passes in passes.txt.
const runbookSteps = `set -euo pipefail
mark() { echo "$1 $(date +%s.%N)" >>phases.txt; }
retry() {
  local name=$1 tries=$2 pause=$3 i; shift 3
  for i in $(seq 1 "$tries"); do
    if "$@" >"$name.out" 2>&1; then echo "$name $i" >>passes.txt; return 0; fi
    sleep "$pause"
  done
  echo "$name: $tries passes failed:" >&2; tail -n 20 "$name.out" >&2; return 1
}
rm -f phases.txt passes.txt; mark start
helm repo add fixtures "$REPO" >/dev/null
helm install nfs-subdir-external-provisioner fixtures/nfs-subdir-external-provisioner --version 4.0.18 \
  --set nfs.server="$NFS" --set nfs.path="$NFSPATH" -n nfs-provisioner --create-namespace >/dev/null
kubectl patch storageclass nfs-client -p '{"metadata": {"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}' >/dev/null
mark storage
helm install metallb fixtures/metallb --version "$METALLB" -n metallb-system --create-namespace >/dev/null
retry metallb-pool 300 1 kubectl apply -f metallb-pool.yaml
mark lb
mkdir manifests && curl -fsS "$KFURL" | tar xz -C manifests --strip-components 1
cd manifests
if [ -f common/oidc-authservice/base/params.env ]; then
  sed -i "s|^OIDC_PROVIDER=.*|OIDC_PROVIDER=$OIDC|" common/oidc-authservice/base/params.env
else
  sed -i "s|^oidc_issuer_url = .*|oidc_issuer_url = \"$OIDC\"|" common/oauth2-proxy/base/oauth2_proxy.cfg
fi
sed -i 's|^CD_REGISTRATION_FLOW=.*|CD_REGISTRATION_FLOW=true|' */centraldashboard/upstream/base/params.env
prof=common/user-namespace/base
if grep -q '\$(' $prof/profile-instance.yaml; then
  while IFS='=' read -r k v; do [ -n "$k" ] && sed -i "s|\$($k)|$v|g" $prof/profile-instance.yaml; done <$prof/params.env
fi
kubectl kustomize example >../kubeflow.yaml 2>../kustomize.err
cd ..
awk 'BEGIN{RS="\n---\n"} /\nkind: Service\n/ && /\n  name: istio-ingressgateway\n/ && /\n  namespace: istio-system\n/ {
  sub(/\n  type: [A-Za-z]+/, "\n  type: LoadBalancer") } NR>1 {printf "\n---\n"} {printf "%s", $0}' kubeflow.yaml >kubeflow.edited
if cmp -s kubeflow.yaml kubeflow.edited; then echo "kubeflow.yaml: the ingress Service's type was not edited" >&2; exit 1; fi
mv kubeflow.edited kubeflow.yaml
sed -i 's|^apiVersion: cert-manager.io/v1alpha2$|apiVersion: cert-manager.io/v1|' kubeflow.yaml
mark build
retry kubeflow 60 5 kubectl apply $KFAPPLY -f kubeflow.yaml
mark kubeflow
kubectl create -n istio-system secret tls kubeflow-domain-man-cert --key=tls.key --cert=tls.crt >/dev/null
retry gateway 300 1 kubectl apply -f gw_https_manual_certificates.yaml
mark tls
retry poddefault 300 1 kubectl apply -f pod_default_multiuser.yaml
mark profiles
helm install --generate-name -n gpu-operator --create-namespace fixtures/gpu-operator --version "$GPUOP" --set driver.enabled=false >/dev/null
kubectl create configmap time-slicing --from-file gpu-time-slicing-config.yaml -n gpu-operator >/dev/null
helm upgrade -n gpu-operator "$(helm list -n gpu-operator -q)" fixtures/gpu-operator --version "$GPUOP" --reuse-values \
  --set driver.enabled=false --set devicePlugin.config.name=time-slicing --set devicePlugin.config.default=gpu-time-slicing-config.yaml >/dev/null
mark gpu
`

// runRunbook runs runbookSteps on the bed and logs how long each step took and how many passes
// each retried apply needed.
func (b *handBed) runRunbook(t *testing.T, rc runbookCase) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", runbookSteps)
	cmd.Dir = b.dir
	cmd.Env = append(append([]string{}, b.env...), "REPO="+b.repo, "NFS="+nfsServer, "NFSPATH="+nfsPath, "KFURL="+b.kfURL,
		"OIDC=https://kubeflow.example.com/dex", "METALLB="+rc.metallb, "GPUOP="+rc.gpuOperator, "KFAPPLY="+rc.kubeflowApply)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	passes, _ := os.ReadFile(filepath.Join(b.dir, "passes.txt"))
	t.Logf("runbook by hand: %s in all; %s; passes: %s", time.Since(start).Round(time.Second),
		testbed.StepTimes(filepath.Join(b.dir, "phases.txt")), strings.ReplaceAll(strings.TrimSpace(string(passes)), "\n", ", "))
	if err != nil {
		t.Fatalf("the runbook's steps failed: %v\n%s", err, out)
	}
}

// hand runs a tool of the bed (kubectl or helm) as the person does, failing the test on error.
func (b *handBed) hand(t *testing.T, tool string, args ...string) string {
	t.Helper()
	switch tool {
	case "kubectl":
		tool = b.kubectl
	case "helm":
		tool = b.helm
	}
	cmd := exec.Command(tool, args...)
	cmd.Env = b.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", filepath.Base(tool), args, err, errOut.String())
	}
	return out.String()
}

// writeAdoptPlatform writes the platform file with the settings the runbook's steps used: the
// same NFS export, pool, Kubeflow release and manifests with the same edits (issuer of the auth
// proxy, registration flow, LoadBalancer ingress, the runbook's Docker nodes, dex's example user
// as shipped), certificate and domain, slicing replicas, and the PodDefault in every profile.
func (b *handBed) writeAdoptPlatform(t *testing.T, kubeflowVersion string) string {
	t.Helper()
	doc := `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: runbook-built
spec:
  storage:
    nfsServer: ` + nfsServer + `
    nfsPath: ` + nfsPath + `
    chart: {repo: ` + b.repo + `}
  lb:
    addresses: [` + bedLBAddress + `]
    chart: {repo: ` + b.repo + `}
  kubeflow:
    version: v` + kubeflowVersion + `
    manifests: ` + b.kfURL + `
    oidcProvider: https://kubeflow.example.com/dex
    registrationFlow: true
    ingressServiceType: LoadBalancer
    containerRuntime: docker
    exampleUser: true
  tls:
    domain: kubeflow.example.com
    manual: {certFile: tls.crt, keyFile: tls.key}
  gpu:
    operator:
      chart: {repo: ` + b.repo + `}
    slicing:
      replicas: 4
  profiles:
    allProfiles: true
`
	p := filepath.Join(b.dir, "plugins.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// helmRelease is one line of `helm list -A -o json`.
type helmRelease struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Chart     string `json:"chart"`
}

// helmList lists every release through the helm binary, by chart name (the chart field without
// its version).
func (b *handBed) helmList(t *testing.T) map[string][]helmRelease {
	t.Helper()
	var list []helmRelease
	if err := json.Unmarshal([]byte(b.hand(t, "helm", "list", "-A", "-o", "json")), &list); err != nil {
		t.Fatalf("helm list -o json: %v", err)
	}
	out := map[string][]helmRelease{}
	for _, r := range list {
		name := r.Chart
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i]
		}
		out[name] = append(out[name], r)
	}
	return out
}

// pvcUIDs is the UID of every PersistentVolumeClaim, by namespace/name.
func pvcUIDs(t *testing.T, c *testbed.Cluster) map[string]string {
	t.Helper()
	list, err := c.Client.CoreV1().PersistentVolumeClaims("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range list.Items {
		out[p.Namespace+"/"+p.Name] = string(p.UID)
	}
	return out
}

// defaultClasses names the StorageClasses marked default.
func defaultClasses(t *testing.T, c *testbed.Cluster) []string {
	t.Helper()
	list, err := c.Client.StorageV1().StorageClasses().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sc := range list.Items {
		if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" || sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
			out = append(out, sc.Name)
		}
	}
	return out
}

// assertPruneAdopted proves what becomes of the runbook's time-slicing ConfigMap once gpu slicing
// took the release over: every run names it in a note and keeps it; a dry run with
// --prune-adopted reports its deletion and deletes nothing; --prune-adopted deletes it (and only
// it); after that the note is gone and a re-run is unchanged.
func assertPruneAdopted(t *testing.T, c *testbed.Cluster, file string) {
	t.Helper()
	ctx := context.Background()
	cms := c.Client.CoreV1().ConfigMaps("gpu-operator")
	exists := func() bool {
		_, err := cms.Get(ctx, "time-slicing", metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	const note = "gpu: ConfigMap gpu-operator/time-slicing, made by hand, is no longer read by the device plugin (it reads time-slicing-config): kept; --prune-adopted deletes it"
	r := runPlugin(t, c, "apply", "-f", file, "--only", "gpu")
	if r.code != 0 || !strings.Contains(r.stderr, note) || !exists() {
		t.Fatalf("without --prune-adopted: exit %d, want 0, the note %q and the ConfigMap kept", r.code, note)
	}
	before := platformState(t, c)
	// (-o json of a dry run prints the objects it would send, not the report: the table it is.)
	r = runPlugin(t, c, "apply", "-f", file, "--only", "gpu", "--prune-adopted", "--dry-run=server")
	if r.code != 0 || !regexp.MustCompile(`(?m)^gpu\s+would change \(server dry run\)\s+1/\d+`).MatchString(r.stdout) || strings.Contains(r.stderr, "kept; --prune-adopted") || !exists() {
		t.Errorf("dry run with --prune-adopted: exit %d, want 0, one change reported, no note and nothing deleted", r.code)
	}
	sameState(t, before, platformState(t, c))
	r = runPlugin(t, c, "apply", "-f", file, "--only", "gpu", "--prune-adopted", "-o", "json")
	if r.code != 0 || !deletes(summaryOf(t, r)["gpu"], "time-slicing") || exists() {
		t.Fatalf("--prune-adopted: exit %d, want 0 and ConfigMap gpu-operator/time-slicing deleted", r.code)
	}
	delete(before, "configmaps/gpu-operator/time-slicing")
	after := platformState(t, c)
	for k, v := range after {
		if strings.HasPrefix(k, "configmaps/gpu-operator/") && before[k] != v {
			t.Errorf("--prune-adopted changed %s too", k)
		}
	}
	r = runPlugin(t, c, "apply", "-f", file, "--only", "gpu")
	if r.code != 0 || strings.Contains(r.stderr, "time-slicing, made by hand") || !regexp.MustCompile(`(?m)^gpu\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
		t.Errorf("after --prune-adopted: exit %d, want 0, gpu unchanged and no note", r.code)
	}
}

// deletes tells whether the outcome's report deletes ConfigMap gpu-operator/name.
func deletes(o platform.Outcome, name string) bool {
	if o.Report == nil {
		return false
	}
	for _, x := range o.Report.Results {
		if x.Kind == "ConfigMap" && x.Namespace == "gpu-operator" && x.Name == name && x.Action == output.Deleted {
			return true
		}
	}
	return false
}
