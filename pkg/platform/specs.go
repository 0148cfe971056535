package platform

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// The typed specs of the components, filled from the file exactly as the commands fill them
// from their flags (defaults included). Run-time settings (dry run, wait, timeout) are added by
// the runner.

// StorageSpec is the storage block as storage.Spec.
func (pl *Platform) StorageSpec() (storage.Spec, error) {
	b := pl.Spec.Storage
	c := storage.Config{
		Server: b.NFSServer, Path: b.NFSPath, Class: or(b.StorageClass, storage.DefaultClass),
		Namespace: or(b.ReleaseNamespace, storage.DefaultNamespace), Default: b.Default == nil || *b.Default,
		Chart: pl.chart(b.Chart, storage.DefaultChartRepo, storage.DefaultChartVersion),
	}
	err := c.Validate()
	return storage.Spec{Config: c, SmokeTest: b.SmokeTest}, err
}

// LBSpec is the lb block as lb.Spec (the chart version left empty picks the one that fits).
func (pl *Platform) LBSpec() (lb.Spec, error) {
	b := pl.Spec.LB
	ranges, err := lb.ParseAddresses(b.Addresses)
	if err != nil {
		return lb.Spec{}, err
	}
	s := lb.Spec{Probe: b.Probe, Config: lb.Config{
		Namespace: or(b.ReleaseNamespace, lb.DefaultNamespace), ReleaseName: or(b.ReleaseName, lb.DefaultRelease),
		Pool: or(b.Pool, lb.DefaultPool), L2Advertisement: or(b.L2Advertisement, lb.DefaultL2), Addresses: ranges,
		Chart: pl.chart(b.Chart, lb.DefaultChartRepo, ""), FixStrictARP: b.FixStrictARP, Prune: true,
	}}
	for i, c := range b.ServiceCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return s, core.UsageErrorf("--service-cidr entry %d %q is not a CIDR (%s): give the kube-apiserver's --service-cluster-ip-range", i+1, c, core.PrefixProblem(err))
		}
		s.ServiceCIDRs = append(s.ServiceCIDRs, p)
	}
	return s, append(s.Config.Chart.Validate(), s.Config.Chart.CheckFiles()...).UsageError(core.ChartFlag)
}

// KubeflowSpec is the kubeflow block as kubeflow.Spec, the GitHub client secret read from its
// file (the version left empty picks the one that fits).
func (pl *Platform) KubeflowSpec() (kubeflow.Spec, bool, error) {
	b := pl.Spec.Kubeflow
	s := kubeflow.Spec{Version: b.Version, Manifests: pl.resolve(b.Manifests), Edits: kubeflow.Edits{
		OIDCProvider: b.OIDCProvider, RegistrationFlow: b.RegistrationFlow, IngressServiceType: b.IngressServiceType,
		DexIssuer: b.DexIssuer, ContainerRuntime: b.ContainerRuntime, PasswordDB: b.EnablePasswordDB,
		ExampleUser: b.ExampleUser,
	}}
	if b.Version != "" {
		if _, err := kubeflow.ProfileFor(b.Version); err != nil {
			return s, b.ForceConflicts, err
		}
	}
	if b.GitHub != nil {
		g := b.GitHub
		s.Edits.GitHub = &kubeflow.GitHub{ClientID: g.ClientID, Org: g.Org, Teams: g.Teams, RedirectURI: g.RedirectURI, ClientSecret: pl.GitHubClientSecret}
	}
	return s, b.ForceConflicts, nil
}

// chart turns a chart block into the chart flags, with the section's defaults and paths
// resolved against the file's folder.
func (pl *Platform) chart(c Chart, repo, version string) core.ChartSource {
	f := core.ChartSource{Repo: or(c.Repo, repo), Version: or(c.Version, version), Chart: pl.resolve(c.Chart),
		Username: c.Username, PasswordFile: pl.resolve(c.PasswordFile), CAFile: pl.resolve(c.CAFile),
		CertFile: pl.resolve(c.CertFile), KeyFile: pl.resolve(c.KeyFile), InsecureSkipTLSVerify: c.InsecureSkipTLSVerify,
		Verify: c.Verify, Keyring: or(pl.resolve(c.Keyring), core.DefaultKeyring())}
	keys := make([]string, 0, len(c.Set))
	for k := range c.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f.Set = append(f.Set, fmt.Sprintf("%s=%v", k, c.Set[k]))
	}
	for _, v := range c.ValuesFiles {
		f.ValuesFiles = append(f.ValuesFiles, pl.resolve(v))
	}
	return f
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// fieldOf maps a flag named in a component's message to the field of the block.
var fieldOf = map[string]string{
	"--nfs-server": "nfsServer", "--nfs-path": "nfsPath", "--storage-class": "storageClass",
	"--release-namespace": "releaseNamespace", "--chart-repo": "chart.repo", "--set": "chart.set",
	"--addresses": "addresses", "--service-cidr": "serviceCIDRs", "--version": "version",
}

var entryRE = regexp.MustCompile(`^(--[a-z-]+) entr(?:y|ies) (\d+)`)

// blockProblem adds err (a component's validation) at the field of section it names.
func blockProblem(p *problems, section string, err error) {
	var ee *core.ExitError
	msg := err.Error()
	if errors.As(err, &ee) && ee.Err != nil {
		msg = ee.Err.Error()
	}
	path := []string{"spec", section}
	if m := entryRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[2])
		path = join(path, fieldOf[m[1]], strconv.Itoa(n-1))
		msg = strings.TrimPrefix(msg, m[0]+": ")
	} else if f, rest, ok := strings.Cut(msg, " "); ok && fieldOf[f] != "" {
		path = join(path, strings.Split(fieldOf[f], ".")...)
		msg = rest
	}
	for flag, field := range fieldOf {
		msg = strings.ReplaceAll(msg, flag+" ", field+": ")
	}
	p.add(path, false, "%s", strings.TrimSpace(msg))
}

// checkSections applies the sections' own rules (the same validation as their commands) and
// reads the files the platform file refers to, each problem at its field.
func checkSections(pl *Platform, p *problems) {
	s := pl.Spec
	if s.Storage != nil {
		if _, err := pl.StorageSpec(); err != nil {
			blockProblem(p, "storage", err)
		}
		pl.checkChart(p, []string{"spec", "storage", "chart"}, s.Storage.Chart)
	}
	if s.LB != nil {
		if _, err := pl.LBSpec(); err != nil {
			blockProblem(p, "lb", err)
		}
		pl.checkChart(p, []string{"spec", "lb", "chart"}, s.LB.Chart)
	}
	if s.Kubeflow != nil {
		if g := s.Kubeflow.GitHub; g != nil {
			pl.GitHubClientSecret = pl.readSecret(p, []string{"spec", "kubeflow", "github", "clientSecretFile"}, g.ClientSecretFile)
		}
		if m := s.Kubeflow.Manifests; m != "" && !strings.Contains(m, "://") {
			if _, err := os.Stat(pl.resolve(m)); err != nil {
				p.add([]string{"spec", "kubeflow", "manifests"}, false, "%v: give a kubeflow/manifests checkout folder or .tar.gz (relative to this file), or an http(s) URL", err)
			}
		}
		if _, _, err := pl.KubeflowSpec(); err != nil {
			blockProblem(p, "kubeflow", err)
		}
	}
	if t := s.TLS; t != nil && t.Manual != nil {
		pl.TLSCert = pl.readSecret(p, []string{"spec", "tls", "manual", "certFile"}, t.Manual.CertFile)
		pl.TLSKey = pl.readSecret(p, []string{"spec", "tls", "manual", "keyFile"}, t.Manual.KeyFile)
	}
	if g := s.GPU; g != nil && g.Operator != nil {
		pl.checkChart(p, []string{"spec", "gpu", "operator", "chart"}, g.Operator.Chart)
	}
}

// checkChart checks that the local files a chart block names exist.
func (pl *Platform) checkChart(p *problems, path []string, c Chart) {
	if c.Chart != "" && !strings.Contains(c.Chart, "://") {
		if _, err := os.Stat(pl.resolve(c.Chart)); err != nil {
			p.add(join(path, "chart"), false, "%v: give a chart .tgz or folder (relative to this file), an https URL of a .tgz, or oci://...", err)
		}
	}
	for i, v := range c.ValuesFiles {
		if _, err := os.Stat(pl.resolve(v)); err != nil {
			p.add(join(path, "valuesFiles", strconv.Itoa(i)), false, "%v", err)
		}
	}
}

// readSecret reads a secret file (relative to the platform file): missing or empty is a problem.
func (pl *Platform) readSecret(p *problems, path []string, file string) []byte {
	data, err := os.ReadFile(pl.resolve(file))
	if err != nil {
		p.add(path, false, "%v", err)
		return nil
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		p.add(path, false, "%s is empty: put the secret in it", pl.resolve(file))
	}
	return data
}

// gpuDefaults fills the gpu block's defaults.
func (pl *Platform) gpuOperator() gpu.OperatorOptions {
	o := GPUOperator{}
	if pl.Spec.GPU.Operator != nil {
		o = *pl.Spec.GPU.Operator
	}
	return gpu.OperatorOptions{Namespace: or(o.ReleaseNamespace, gpu.DefaultNamespace), DriverEnabled: o.DriverEnabled, Chart: pl.chart(o.Chart, gpu.DefaultChartRepo, "")}
}

// gpuSlicing is the slicing block as gpu.SlicingOptions (nil when the file has none).
func (pl *Platform) gpuSlicing() *gpu.SlicingOptions {
	s := pl.Spec.GPU.Slicing
	if s == nil {
		return nil
	}
	ns := or("", gpu.DefaultNamespace)
	if o := pl.Spec.GPU.Operator; o != nil {
		ns = or(o.ReleaseNamespace, ns)
	}
	return &gpu.SlicingOptions{Namespace: ns, ConfigName: or(s.ConfigName, gpu.DefaultConfigName), Config: gpu.SlicingConfig{
		Replicas: s.Replicas, RenameByDefault: s.RenameByDefault, FailRequestsGreaterThanOne: s.FailRequestsGreaterThanOne,
	}, Chart: core.ChartSource{Repo: pl.gpuOperator().Chart.Repo}}
}

// TLSSpec is the tls block as tls.Spec (the certificate files already read).
func (pl *Platform) TLSSpec() tls.Spec {
	b := pl.Spec.TLS
	s := tls.Spec{Domain: b.Domain}
	if m := b.Manual; m != nil {
		s.CertPEM, s.KeyPEM = pl.TLSCert, pl.TLSKey
		s.SecretName, s.Wildcard, s.HTTPRedirect = or(m.SecretName, tls.DefaultManualSecret), m.Wildcard, m.HTTPRedirect
	}
	if a := b.ACME; a != nil {
		s.ACME, s.Email, s.ACMEServer = true, a.Email, or(a.Server, "production")
	}
	return s
}
