package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// platformCase is what differs between the two Kubernetes versions.
type platformCase struct {
	version string
	// picks are the stderr lines saying which version each section picked.
	picks []string
	// badVersion is an edit giving a version that cannot work there, and what the error names.
	badVersion     func(string) string
	badVersionWant []string
	// configOnly are images the Kubeflow release names only in configs (read from its
	// manifests by hand), which `images` must list.
	configOnly []string
}

// TestPlatformV137: the whole platform from one file with no version in it on Kubernetes 1.37
// (Kubeflow 26.03 with its remote bases from the mirror folder, MetalLB 0.16.1, gpu-operator
// v26.7.0), on one test bed for every sub-case.
func TestPlatformV137(t *testing.T) {
	runPlatform(t, platformCase{
		version: testbed.V137,
		picks:   []string{"kubeflow: Kubeflow 26.03 picked", "lb: MetalLB chart 0.16.1 picked", "gpu: gpu-operator chart v26.7.0 picked"},
		badVersion: func(s string) string {
			return strings.Replace(s, "  kubeflow:\n", "  kubeflow:\n    version: v1.5.0\n", 1)
		},
		badVersionWant: []string{"Kubeflow v1.5.0 cannot be installed on Kubernetes v1.37.2", "the release that installs here", "26.03"},
		configOnly: []string{"gcr.io/istio-release/proxyv2:1.29.0", "ghcr.io/kubeflow/kfp-launcher:2.16.0",
			"quay.io/argoproj/argoexec:v3.7.3", "ghcr.io/kubeflow/kfp-frontend:2.16.0", "quay.io/jetstack/cert-manager-acmesolver:v1.19.4"},
	})
}

// TestPlatformV121: the same file on the runbook's Kubernetes 1.21 (Kubeflow v1.5.0, MetalLB
// 0.14.3, gpu-operator v23.6.2).
func TestPlatformV121(t *testing.T) {
	if _, err := testbed.FindBinDir(testbed.V121); err != nil {
		t.Skipf("Kubernetes %s test bed binaries absent (hack/testbin.sh builds them): %v", testbed.V121, err)
	}
	runPlatform(t, platformCase{
		version: testbed.V121,
		picks:   []string{"kubeflow: Kubeflow v1.5.0 picked", "lb: MetalLB chart 0.14.3 picked", "gpu: gpu-operator chart v23.6.2 picked"},
		badVersion: func(s string) string {
			s = strings.Replace(s, "probe: true\n    chart: {repo: ", "probe: true\n    chart: {version: 0.15.3, repo: ", 1)
			return strings.Replace(s, "    operator:\n      chart: {repo: ", "    operator:\n      chart: {version: v26.7.0, repo: ", 1)
		},
		badVersionWant: []string{"MetalLB chart 0.15.3 cannot be installed on Kubernetes v1.21.14", "the release that installs here", "0.14.3", "gpu-operator chart v26.7.0 cannot be installed", "v23.6.2"},
		configOnly: []string{"docker.io/istio/proxyv2:1.11.4", "gcr.io/ml-pipeline/visualization-server:1.8.1",
			"gcr.io/ml-pipeline/argoexec:v3.2.3-license-compliance"},
	})
}

func runPlatform(t *testing.T, pc platformCase) {
	repo := testbed.ChartRepo(t)
	kfVersion := "26.03"
	if pc.version == testbed.V121 {
		kfVersion = "1.5.0"
	}
	kfURL := kubeflowArchiveURL(t, kfVersion)
	c := testbed.StartT(t, testbed.Options{Version: pc.version, Webhooks: true, StandIns: []testbed.StandIn{
		standins.NewNFSProvisioner(), standins.NewMetalLBController(), standins.NewGPUDevicePlugin(), standins.NewProfileController(),
		standins.NewAdmissionWebhooks(webhookDelay),
	}})
	b := newPlatformBed(t, c, repo, kfURL)
	good := b.writePlatform(t, "plugins.yaml", nil)
	// The platform is installed by an identity bound to nothing but the ClusterRole that
	// `kubectl flexigrobots rbac` prints: a declaration that misses what a section does fails here.
	installer := rbacKubeconfig(t, c, "platform-installer")
	pristine := settledState(t, c)

	t.Run("bad files exit 2 with every problem's line and change nothing", func(t *testing.T) {
		for name, tc := range map[string]struct {
			edit func(string) string
			want []string
		}{
			"misspelled field": {func(s string) string { return strings.Replace(s, "nfsServer:", "nfsSever:", 1) },
				[]string{`bad.yaml:7:5: spec.storage.nfsSever: unknown field "nfsSever": did you mean "nfsServer"?`, `bad.yaml:6:3: spec.storage: missing required field "nfsServer"`}},
			"bad IP range": {func(s string) string { return strings.Replace(s, bedLBAddress, "127.240.0.20-127.240.0.10", 1) },
				[]string{"bad.yaml:12:17: spec.lb.addresses[0]: ", "swap them"}},
			"wrong type": {func(s string) string { return strings.Replace(s, "replicas: 4", "replicas: four", 1) },
				[]string{"spec.gpu.slicing.replicas: got string, want integer"}},
			"secret inline": {func(s string) string {
				return strings.Replace(s, "clientSecretFile: gh-secret.txt", "clientSecret: "+ghClientSecret, 1)
			}, []string{`bad.yaml:22:7: spec.kubeflow.github.clientSecret: "clientSecret" is a secret given inline`}},
			"certificate for another domain": {func(s string) string {
				return strings.Replace(s, "domain: kubeflow.example.com", "domain: other.example.com", 1)
			}, []string{"spec.tls.manual.certFile: the certificate is for kubeflow.example.com, not other.example.com", "nothing was changed"}},
			"unknown section": {func(s string) string { return s + "  monitoring: {enabled: true}\n" },
				[]string{`spec.monitoring: unknown field "monitoring"`}},
			"all at once": {func(s string) string {
				s = strings.Replace(s, "nfsServer:", "nfsSever:", 1)
				s = strings.Replace(s, "replicas: 4", "replicas: 0", 1)
				return strings.Replace(s, "dexIssuer: https://kubeflow.example.com/dex", "dexIssuer: kubeflow.example.com", 1)
			}, []string{"4 problem(s)", "bad.yaml:7:5:", "bad.yaml:19:16: spec.kubeflow.dexIssuer:", "spec.gpu.slicing.replicas: minimum: got 0, want 1"}},
		} {
			t.Run(name, func(t *testing.T) {
				r := runPlugin(t, c, "apply", "-f", b.writePlatform(t, "bad.yaml", tc.edit))
				if r.code != 2 || r.stdout != "" {
					t.Fatalf("want exit 2 and nothing on stdout, got %d", r.code)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("stderr lacks %q", w)
					}
				}
				if strings.Contains(r.stderr, ghClientSecret) {
					t.Error("the inline secret's value was printed")
				}
			})
		}
		t.Run("a version that cannot work here", func(t *testing.T) {
			r := runPlugin(t, c, "apply", "-f", b.writePlatform(t, "bad.yaml", pc.badVersion))
			if r.code != 2 {
				t.Fatalf("want exit 2, got %d", r.code)
			}
			for _, w := range pc.badVersionWant {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
		})
		t.Run("unknown --only section", func(t *testing.T) {
			if r := runPlugin(t, c, "apply", "-f", good, "--only", "storage,monitoring"); r.code != 2 || !strings.Contains(r.stderr, `"monitoring": not a section`) {
				t.Fatalf("want exit 2 naming the section, got %d", r.code)
			}
		})
		t.Run("client dry run", func(t *testing.T) {
			r := runPlugin(t, c, "apply", "-f", good, "--only", "storage,lb,gpu", "--dry-run=client")
			if r.code != 0 {
				t.Fatalf("dry run: exit %d", r.code)
			}
			for _, sec := range []string{"storage", "lb", "gpu"} {
				if !regexp.MustCompile(`(?m)^` + sec + `\s+would change \(client dry run\)`).MatchString(r.stdout) {
					t.Errorf("summary lacks %s as would change (client dry run):\n%s", sec, r.stdout)
				}
			}
		})
		t.Run("client dry run -o yaml prints the objects it would send", func(t *testing.T) {
			r := runPlugin(t, c, "apply", "-f", good, "--only", "storage,lb,gpu", "--dry-run=client", "-o", "yaml")
			if r.code != 0 {
				t.Fatalf("dry run: exit %d", r.code)
			}
			kinds := listedObjects(t, r.stdout)
			for _, w := range []string{"StorageClass//nfs-client", "IPAddressPool/metallb-system/ai-platform-pool", "Deployment/metallb-system/metallb-controller",
				"CustomResourceDefinition//clusterpolicies.nvidia.com", "Deployment/gpu-operator/gpu-operator"} {
				if !kinds[w] {
					t.Errorf("the printed List lacks %s (has %d objects)", w, len(kinds))
				}
			}
			if strings.Contains(r.stdout, "results:") || strings.Contains(r.stdout, "sections:") {
				t.Error("the report was printed beside the objects")
			}
		})
		t.Run("diff -f on the empty cluster shows what would be created", func(t *testing.T) {
			r := runPlugin(t, c, "diff", "-f", good, "--only", "storage,lb,gpu")
			if r.code != 1 {
				t.Fatalf("want exit 1 (something would change), got %d", r.code)
			}
			for _, w := range []string{"+kind: StorageClass", "+kind: IPAddressPool", "+kind: CustomResourceDefinition", "+  name: nfs-client"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("diff lacks %q", w)
				}
			}
			if strings.Contains(r.stdout, "managedFields") || strings.Contains(r.stdout, "\n-  name:") {
				t.Error("diff shows managed fields or removals on an empty cluster")
			}
		})
		t.Run("verify without -f reports sections not installed as info", func(t *testing.T) {
			r := runPlugin(t, c, "verify", "--section", "storage,lb,kubeflow,gpu")
			if r.code != 0 {
				t.Fatalf("want exit 0 (nothing is installed, nothing is wrong), got %d", r.code)
			}
			for _, w := range []string{"not installed: no nfs-subdir-external-provisioner Deployment", "not installed: no MetalLB controller found",
				"not installed: no workloads in namespace kubeflow", "not installed: no gpu-operator Deployment"} {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("verify lacks %q", w)
				}
			}
		})
		t.Run("verify -f fails on declared sections the cluster lacks", func(t *testing.T) {
			r := runPlugin(t, c, "verify", "-f", good)
			if r.code != 3 || !strings.Contains(r.stdout, "LB-003") || !strings.Contains(r.stdout, "KUBEFLOW-001") {
				t.Fatalf("want exit 3 with the failing lb and kubeflow checks, got %d", r.code)
			}
		})
		sameState(t, pristine, platformState(t, c))
	})

	t.Run("apply -f converges every section (as the rbac role's identity)", func(t *testing.T) {
		r := runPluginAs(t, installer, "apply", "-f", good, "-o", "json")
		if r.code != 0 {
			t.Fatalf("first apply: exit %d", r.code)
		}
		// profiles: the example user's Profile that Kubeflow ships gets its namespace from the
		// profile controller within the section's grace, then the PodDefault.
		wantResults(t, summaryOf(t, r), map[string]string{
			"storage": "changed", "lb": "changed", "kubeflow": "changed", "gpu": "changed",
			"tls": "changed", "profiles": "changed",
		})
		for _, w := range append(pc.picks, "apply: storage started", "apply: kubeflow waits for storage, lb (building meanwhile)", "apply: kubeflow changed") {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q", w)
			}
		}
		if strings.Contains(r.stdout+r.stderr, ghClientSecret) {
			t.Fatal("the GitHub client secret was printed")
		}
		if strings.Contains(r.stderr, "warnings.go:") {
			t.Error("API warnings printed as klog lines, not as kubectl's `Warning: ...`")
		}
	})

	t.Run("re-run is unchanged everywhere and moves no resourceVersion", func(t *testing.T) {
		before := platformState(t, c)
		start := time.Now()
		r := runPluginAs(t, installer, "apply", "-f", good)
		if r.code != 0 {
			t.Fatalf("re-run: exit %d", r.code)
		}
		t.Logf("re-run took %s", time.Since(start))
		for _, sec := range []string{"storage", "lb", "kubeflow", "tls", "profiles", "gpu"} {
			if !regexp.MustCompile(`(?m)^` + sec + `\s+unchanged\s+0/\d+`).MatchString(r.stdout) {
				t.Errorf("summary: %s is not unchanged", sec)
			}
		}
		if !strings.Contains(r.stderr, "every address of pool ai-platform-pool is in use; LoadBalancer Service istio-system/istio-ingressgateway holds") {
			t.Error("the probe did not prove the full pool by the ingress gateway's address")
		}
		sameState(t, before, platformState(t, c))
	})

	t.Run("images lists every image the platform runs and changes nothing", func(t *testing.T) {
		checkImages(t, c, good, pc.configOnly)
	})

	t.Run("diff -f shows exactly a one-field change, names a dropped block, masks secrets, changes nothing", func(t *testing.T) {
		before := platformState(t, c)
		if r := runPlugin(t, c, "diff", "-f", good); r.code != 0 || r.stdout != "" {
			t.Fatalf("after apply: want exit 0 and no output, got %d:\n%s", r.code, r.stdout)
		}
		r := runPlugin(t, c, "diff", "-f", b.writePlatform(t, "five.yaml", func(s string) string {
			return strings.Replace(s, "replicas: 4", "replicas: 5", 1)
		}))
		if r.code != 1 {
			t.Fatalf("one field changed: want exit 1, got %d", r.code)
		}
		files := regexp.MustCompile(`(?m)^diff -u -N \S+/(\S+) `).FindAllStringSubmatch(r.stdout, -1)
		changed := regexp.MustCompile(`(?m)^[-+] .*$`).FindAllString(r.stdout, -1)
		if len(files) != 1 || !strings.HasPrefix(files[0][1], "v1.ConfigMap.") || len(changed) != 2 ||
			!strings.Contains(changed[0], "replicas: 4") || !strings.Contains(changed[1], "replicas: 5") {
			t.Fatalf("want one ConfigMap with replicas 4 -> 5, got:\n%s", r.stdout)
		}
		// A block dropped from the file: the section is named as left installed, nothing else.
		noTLS := b.writePlatform(t, "no-tls.yaml", func(s string) string {
			return strings.Replace(s, "  tls:\n    domain: kubeflow.example.com\n    manual: {certFile: tls.crt, keyFile: tls.key}\n", "", 1)
		})
		if r := runPlugin(t, c, "diff", "-f", noTLS); r.code != 0 || r.stdout != "" ||
			!strings.Contains(r.stderr, "tls: not in "+noTLS+", installed by an earlier apply: left as it is (`kubectl flexigrobots tls uninstall` takes it down)") {
			t.Errorf("diff -f without the tls block: exit %d, want 0, no diff and a line naming tls as left installed\n%s", r.code, r.stderr)
		}
		const newSecret = "a-rotated-github-secret-0xFEED"
		if err := os.WriteFile(filepath.Join(b.dir, "gh-secret2.txt"), []byte(newSecret), 0o600); err != nil {
			t.Fatal(err)
		}
		r = runPlugin(t, c, "diff", "-f", b.writePlatform(t, "rotated.yaml", func(s string) string {
			return strings.Replace(s, "clientSecretFile: gh-secret.txt", "clientSecretFile: gh-secret2.txt", 1)
		}), "--only", "kubeflow")
		if r.code != 1 || !strings.Contains(r.stdout, "*** (before)") || !strings.Contains(r.stdout, "*** (after)") {
			t.Fatalf("rotated secret: want exit 1 and a masked change, got %d:\n%s", r.code, r.stdout)
		}
		for _, v := range []string{newSecret, ghClientSecret, base64.StdEncoding.EncodeToString([]byte(newSecret)), base64.StdEncoding.EncodeToString([]byte(ghClientSecret))} {
			if strings.Contains(r.stdout+r.stderr, v) {
				t.Fatal("diff printed a secret value")
			}
		}
		r = runPlugin(t, c, "profile", "poddefault", "--all-profiles", "--remove", "--diff")
		if r.code != 1 || !strings.Contains(r.stdout, "-kind: PodDefault") || regexp.MustCompile(`(?m)^\+[^+]`).MatchString(r.stdout) {
			t.Fatalf("--remove --diff: want exit 1 and the PodDefault shown removed, got %d:\n%s", r.code, r.stdout)
		}
		sameState(t, before, platformState(t, c))
	})

	t.Run("verify -f checks the declared sections", func(t *testing.T) {
		r := runPlugin(t, c, "verify", "-f", good)
		if r.code != 0 {
			t.Fatalf("verify -f: exit %d", r.code)
		}
		for _, w := range []string{"STORAGE-", "LB-", "KUBEFLOW-", "TLS-", "PROFILES-", "GPU-"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("verify -f did not run the %s checks", w)
			}
		}
		if strings.Contains(r.stdout, "CLUSTER-") {
			t.Error("verify -f ran the cluster checks, which the file does not declare")
		}
	})

	t.Run("verify as a view-bound identity: nothing fails for want of rights", func(t *testing.T) {
		viewer := []string{"KUBECONFIG=" + viewerKubeconfig(t, c)}
		out, errOut, code := runWithoutCluster(t, viewer, "verify", "-f", good, "-o", "json")
		rep := verifyReport(t, out.String(), errOut.String())
		if code != 0 {
			t.Errorf("verify -f as viewer: exit %d, want 0 (the platform is healthy; what the identity may not read is skipped)", code)
		}
		for _, x := range rep.Results {
			if x.Severity > checks.Info {
				t.Errorf("%s %s: %s", x.ID, x.Severity, x.Message)
			}
		}
		out, errOut, code = runWithoutCluster(t, viewer, "verify", "--section", "cluster", "-o", "json")
		rep = verifyReport(t, out.String(), errOut.String())
		got := map[string]checks.Result{}
		for _, x := range rep.Results {
			got[x.ID] = x
		}
		if x := got["CLUSTER-004"]; x.Severity != checks.Info || !strings.Contains(x.Message, "skipped") || !strings.Contains(x.Message, "approve signers kubernetes.io/kube-apiserver-client") {
			t.Errorf("CLUSTER-004 as viewer: %s %q, want info: skipped, naming the approve right the probe needs", x.Severity, x.Message)
		}
		if x := got["CLUSTER-005"]; x.Severity != checks.Info || !strings.Contains(x.Message, "read-only identity") {
			t.Errorf("CLUSTER-005 as viewer: %s %q, want info: read-only identity", x.Severity, x.Message)
		}
		if code == core.ExitFailed {
			t.Errorf("verify --section cluster as viewer: exit %d", code)
		}
	})

	t.Run("verify as the identity of `rbac verify`: every check but the CSR probe runs", func(t *testing.T) {
		verifier := rbacKubeconfig(t, c, "platform-verifier", "verify")
		r := runPluginAs(t, verifier, "verify", "-f", good, "-o", "json")
		rep := verifyReport(t, r.stdout, r.stderr)
		if r.code != 0 {
			t.Errorf("verify -f as the verify role: exit %d", r.code)
		}
		for _, x := range rep.Results {
			if x.Severity > checks.Info || strings.Contains(x.Message, "skipped") {
				t.Errorf("%s %s: %s (the verify role must let every check of a platform file run)", x.ID, x.Severity, x.Message)
			}
		}
		r = runPluginAs(t, verifier, "verify", "--section", "cluster", "-o", "json")
		got := map[string]checks.Result{}
		for _, x := range verifyReport(t, r.stdout, r.stderr).Results {
			got[x.ID] = x
		}
		if x := got["CLUSTER-004"]; x.Severity != checks.Info || !strings.Contains(x.Message, "skipped") {
			t.Errorf("CLUSTER-004: %s %q, want skipped (the verify role holds no CSR approval)", x.Severity, x.Message)
		}
		if x := got["CLUSTER-005"]; x.Severity != checks.Info || !strings.Contains(x.Message, "read-only identity") || strings.Contains(x.Message, "verify: missing") || !strings.Contains(x.Message, "storage: missing") {
			t.Errorf("CLUSTER-005: %s %q, want read-only identity, verify's permissions all granted, storage's not", x.Severity, x.Message)
		}
		if x := got["CLUSTER-002"]; x.Severity != checks.OK {
			t.Errorf("CLUSTER-002: %s %q", x.Severity, x.Message)
		}
	})

	t.Run("a failing section stops its dependents; the fixed file converges", func(t *testing.T) {
		before := platformState(t, c)
		broken := b.writePlatform(t, "broken.yaml", func(s string) string {
			return strings.Replace(s, "probe: true\n    chart: {repo: ", "probe: true\n    chart: {version: 0.13.99, repo: ", 1)
		})
		r := runPlugin(t, c, "apply", "-f", broken, "-o", "json")
		if r.code != 2 { // lb refused the input and no section changed anything
			t.Fatalf("want exit 2, got %d", r.code)
		}
		wantResults(t, summaryOf(t, r), map[string]string{
			"storage": "unchanged", "lb": `failed|no version "0.13.99"`, "kubeflow": "skipped|needs lb, which failed", "gpu": "unchanged",
			"tls": "skipped|needs kubeflow, which was skipped", "profiles": "skipped|needs kubeflow, which was skipped",
		})
		sameState(t, before, platformState(t, c))
		if r := runPlugin(t, c, "apply", "-f", good); r.code != 0 {
			t.Fatalf("fixed file: exit %d", r.code)
		}
		sameState(t, before, platformState(t, c))
	})

	if pc.version == testbed.V121 {
		defer t.Run("a chart with CEL CRDs given by path fails fast with the fix", func(t *testing.T) {
			chart := filepath.Join(testbed.FixturesDir(t), "charts", "gpu-operator-v26.7.0.tgz")
			start := time.Now()
			r := runPlugin(t, c, "gpu", "operator", "--chart", chart, "--timeout", "10m")
			if took := time.Since(start); took > 3*time.Minute {
				t.Errorf("took %s: the permanent refusal was retried", took)
			}
			if r.code != 2 {
				t.Fatalf("want exit 2 (refused before any change), got %d", r.code)
			}
			if regexp.MustCompile(`(?m)^\S+/\S+ (created|configured|installed|upgraded)( |$)`).MatchString(r.stdout) {
				t.Errorf("the refused chart changed objects:\n%s", r.stdout)
			}
			for _, w := range []string{"cannot be installed on Kubernetes v1.21.14, nothing was changed", "CEL validation rules", "nvidiadrivers.nvidia.com", "--chart-version v23.6.2"} {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
		})
	}

	t.Run("the README's runbook commands find nothing to change", func(t *testing.T) {
		for _, args := range readmeRunbook(t) {
			r := runPlugin(t, c, b.onBed(args)...)
			if r.code != 0 {
				t.Fatalf("%v: exit %d", args, r.code)
			}
			if regexp.MustCompile(`(?m)^\S+/\S+ (created|configured|installed|upgraded)( |$)`).MatchString(r.stdout) {
				t.Errorf("%v changed something after apply -f of the same settings:\n%s", args, r.stdout)
			}
			mutating := map[string]bool{"storage": len(args) < 2 || args[1] != "exports", "lb": true, "kubeflow": true, "gpu": len(args) > 1 && args[1] == "operator"}
			if mutating[args[0]] && !regexp.MustCompile(`(?m)^\S+/\S+ unchanged( |$)`).MatchString(r.stdout) {
				t.Errorf("%v reported no unchanged object:\n%s", args, r.stdout)
			}
			if mutating[args[0]] || args[0] == "tls" || args[0] == "profile" || (args[0] == "gpu" && args[1] == "slicing") {
				if r := runPlugin(t, c, append(b.onBed(args), "--diff")...); r.code != 0 || r.stdout != "" {
					t.Errorf("%v --diff: want exit 0 and no output, got %d:\n%s", args, r.code, r.stdout)
				}
			}
		}
	})
	t.Run("imageRegistry points every image at the mirror; verify names a pod that pulls from elsewhere", func(t *testing.T) {
		checkImageRegistry(t, c, b, installer)
	})

	t.Run("storage uninstall refuses while Kubeflow's claims are bound", func(t *testing.T) {
		assertStorageUninstallRefused(t, c, "kubeflow/")
	})
	t.Run("delete -f takes the platform down, the data kept unless --delete-data", func(t *testing.T) {
		assertPlatformDeletes(t, c, installer, good, pristine)
	})
}
