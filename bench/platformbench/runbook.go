package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// The settings both sides use (the e2e platform file's, without the probe and smoke test the
// runbook does not have).
const (
	nfsServer = "127.0.0.1"
	nfsPath   = "/nfsroot/kubeflow_nfs"
	lbAddress = "127.240.0.10/32"
	domain    = "kubeflow.example.com"
	profileNS = "kubeflow-user-example-com"
)

// writeFiles writes plugins.yaml for ours and the runbook's YAML files for theirs into b.dir.
func (b *bed) writeFiles() error {
	cert, key, err := b.c.IssueServingCert(domain, nil, []string{domain})
	if err != nil {
		return err
	}
	files := map[string]string{
		"gh-secret.txt": "gh-oauth-secret-of-the-bench\n",
		"plugins.yaml": `apiVersion: flexigrobots.io/v1alpha1
kind: Platform
metadata:
  name: bench
spec:
  storage:
    nfsServer: ` + nfsServer + `
    nfsPath: ` + nfsPath + `
    chart: {repo: ` + b.repo + `}
  lb:
    addresses: [` + lbAddress + `]
    chart: {repo: ` + b.repo + `}
  kubeflow:
    version: v1.10.2
    manifests: ` + b.kfURL + `
    registrationFlow: true
    ingressServiceType: LoadBalancer
    dexIssuer: https://` + domain + `/dex
    github: {clientID: ID, clientSecretFile: gh-secret.txt, org: ORG, teams: [TEAM], redirectURI: https://` + domain + `/dex/callback}
  tls:
    domain: ` + domain + `
    manual: {certFile: ` + cert + `, keyFile: ` + key + `}
  gpu:
    operator: {chart: {repo: ` + b.repo + `}}
    slicing: {replicas: 4}
  profiles:
    allProfiles: true
`,
		"metallb-pool.yaml": `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ai-platform-pool, namespace: metallb-system}
spec:
  addresses: [` + lbAddress + `]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: ai-platform, namespace: metallb-system}
spec:
  ipAddressPools: [ai-platform-pool]
`,
		"time-slicing.yaml": `version: v1
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 4
`,
		"040-pod_default_multiuser.yaml": testbed.RunbookPodDefault,
		"gateway-patch.json": `{"spec":{"servers":[{"hosts":["*"],"port":{"name":"http","number":80,"protocol":"HTTP"}},` +
			`{"hosts":["*"],"port":{"name":"https","number":443,"protocol":"HTTPS"},"tls":{"mode":"SIMPLE","credentialName":"kubeflow-domain-man-cert"}}]}}`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(b.dir, name), []byte(text), 0o600); err != nil {
			return err
		}
	}
	for from, to := range map[string]string{cert: "tls.crt", key: "tls.key"} {
		data, err := os.ReadFile(from)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(b.dir, to), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// runbookScript is the runbook's sections as commands: the Kubeflow manifests fetched (first run
// only, as a clone is kept) and built with `kubectl kustomize example` (every run, as the runbook
// builds before it applies; the file applied is kubeflow render's of the same edits, so both sides
// apply the same objects, and the runbook's sed edits cost nothing measurable), helm for the three
// charts, kubectl for the rest, each apply that can race (webhooks, CRDs before their custom
// resources) again until it succeeds. Admission webhooks are on, so a pass can fail until a webhook's backend answers:
// a failed pass is retried after 0.2 s (at most 300 passes; a person re-running by hand waits far
// longer, so the loop favours kubectl).
const runbookScript = `set -euo pipefail
until_ok() { for i in $(seq 1 300); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.2; done; "$@"; }
mark() { echo "$1 $(date +%s.%N)" >>phases.txt; }
rm -f phases.txt; mark start
if [ ! -d manifests ]; then mkdir manifests.part && curl -fsSL "$KFURL" | tar xz -C manifests.part --strip-components 1 && mv manifests.part manifests; fi
mark fetch
(cd manifests && kubectl kustomize example >../kustomize-build.yaml 2>/dev/null)
mark kustomize
helm upgrade --install nfs-subdir-external-provisioner nfs-subdir-external-provisioner --repo "$REPO" --version 4.0.18 \
  -n nfs-provisioner --create-namespace --set nfs.server="$NFS" --set nfs.path="$NFSPATH" --set storageClass.defaultClass=true >/dev/null
mark storage
helm upgrade --install metallb metallb --repo "$REPO" --version 0.15.3 -n metallb-system --create-namespace >/dev/null
until_ok kubectl apply -f metallb-pool.yaml
mark lb
until_ok kubectl apply --server-side --force-conflicts -f kubeflow.yaml
mark kubeflow
kubectl -n istio-system create secret tls kubeflow-domain-man-cert --cert tls.crt --key tls.key --dry-run=client -o yaml | kubectl apply -f - >/dev/null
until_ok kubectl -n kubeflow patch gateway kubeflow-gateway --type merge --patch-file gateway-patch.json
mark tls
until_ok sh -c "sed s/'<YOUR_USER_PROFILE_NAMESPACE>'/$PROFILE/ 040-pod_default_multiuser.yaml | kubectl apply -f -"
mark profiles
helm upgrade --install gpu-operator gpu-operator --repo "$REPO" --version v26.7.0 -n gpu-operator --create-namespace >/dev/null
kubectl -n gpu-operator create configmap time-slicing-config --from-file=any=time-slicing.yaml --dry-run=client -o yaml | kubectl apply -f - >/dev/null
helm upgrade gpu-operator gpu-operator --repo "$REPO" --version v26.7.0 -n gpu-operator --reuse-values \
  --set devicePlugin.config.name=time-slicing-config --set devicePlugin.config.default=any >/dev/null
mark gpu
`

// runbook renders the Kubeflow build with the runbook's edits for kubectl to apply (untimed),
// then returns the timed script, which builds the manifests itself too.
func (b *bed) runbook(plugin string) func() error {
	render := exec.Command(plugin, "kubeflow", "render", "--include-secrets", "--version", "v1.10.2", "--manifests", b.kfURL, "--registration-flow",
		"--ingress-service-type", "LoadBalancer", "--dex-issuer", "https://"+domain+"/dex", "--github-client-id", "ID",
		"--github-client-secret-file", filepath.Join(b.dir, "gh-secret.txt"), "--github-org", "ORG", "--github-team", "TEAM",
		"--github-redirect-uri", "https://"+domain+"/dex/callback")
	render.Env = b.env()
	out, err := render.Output()
	if err == nil {
		err = os.WriteFile(filepath.Join(b.dir, "kubeflow.yaml"), out, 0o600)
	}
	if err != nil {
		return func() error { return fmt.Errorf("kubeflow render: %w", err) }
	}
	bin, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return func() error { return err }
	}
	tools := filepath.Join(filepath.Dir(bin), "tools")
	return func() error {
		cmd := exec.Command("bash", "-c", runbookScript)
		cmd.Dir = b.dir
		cmd.Env = append(b.env(), "PATH="+bin+":"+tools+":"+os.Getenv("PATH"), "REPO="+b.repo, "NFS="+nfsServer,
			"NFSPATH="+nfsPath, "PROFILE="+profileNS, "KFURL="+b.kfURL)
		if out, err := cmd.CombinedOutput(); err != nil {
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			return fmt.Errorf("runbook script: %w: %s", err, strings.Join(lines[max(0, len(lines)-8):], "\n"))
		}
		fmt.Printf("runbook phases: %s\n", testbed.StepTimes(filepath.Join(b.dir, "phases.txt")))
		return nil
	}
}
