package storage

import (
	"net"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// Defaults of the section (the runbook's helm command): Spec.Default fills them, and the
// command's flags show them as their defaults.
const (
	ChartName        = "nfs-subdir-external-provisioner"
	DefaultChartRepo = "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner/"
	ReleaseName      = "nfs-subdir-external-provisioner"
	DefaultNamespace = "nfs-provisioner"
	DefaultClass     = "nfs-client"
)

// Spec is the section's desired state: the platform file's `storage` block (same json names),
// and what the flags of `kubectl flexigrobots storage` fill.
type Spec struct {
	// NFSServer is the NFS server's IP address or host name (chart value nfs.server).
	NFSServer string `json:"nfsServer"`
	// NFSPath is the exported directory on the server (nfs.path), absolute; Default cleans it
	// (a trailing slash) so that reruns compare equal.
	NFSPath string `json:"nfsPath"`
	// StorageClass is the StorageClass the chart creates (storageClass.name).
	StorageClass string `json:"storageClass,omitempty"`
	// ReleaseNamespace holds the release (created when missing).
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	// MakeDefault (the file's `default`) makes StorageClass the only default StorageClass
	// (storageClass.defaultClass, and every other default class demoted); nil is true, false is
	// the command's --no-default. (Not called Default: that is the method.)
	MakeDefault *bool `json:"default,omitempty"`
	// SmokeTest runs the runbook's test claim and pod after the install.
	SmokeTest bool `json:"smokeTest,omitempty"`
	// Chart is where the chart comes from (--chart-repo, --chart-version, --chart, --set, -f,
	// --chart-*).
	Chart core.ChartSource `json:"chart,omitempty"`
	// Registry is where the provisioner's and the smoke test's pods pull their images from
	// (imageRegistry, imagePullSecrets; --image-registry, --image-pull-secret).
	images.Registry
}

// Default fills every field left empty with the section's default, and cleans NFSPath (e.g. a
// trailing slash) when it is a valid export path, so that reruns compare equal.
func (s *Spec) Default() {
	if s.StorageClass == "" {
		s.StorageClass = DefaultClass
	}
	if s.ReleaseNamespace == "" {
		s.ReleaseNamespace = DefaultNamespace
	}
	if s.MakeDefault == nil {
		t := true
		s.MakeDefault = &t
	}
	s.Chart.Default(DefaultChartRepo, "") // the version: the matrix's pick for the server (Apply)
	if len(CheckPath(s.NFSPath)) == 0 {
		s.NFSPath = path.Clean(s.NFSPath)
	}
}

// Validate checks the Spec alone (no file, no cluster), each problem at its field.
func (s *Spec) Validate() core.Problems {
	var ps core.Problems
	ps = append(ps, checkServer(s.NFSServer).At("nfsServer")...)
	ps = append(ps, CheckPath(s.NFSPath).At("nfsPath")...)
	if errs := validation.IsDNS1123Subdomain(s.StorageClass); len(errs) > 0 {
		ps = append(ps, core.Problemf("storageClass", "%q is not a valid StorageClass name: %s (use lower-case letters, digits, '-' and '.', e.g. %s)", s.StorageClass, strings.Join(errs, "; "), DefaultClass))
	}
	if errs := validation.IsDNS1123Label(s.ReleaseNamespace); len(errs) > 0 {
		ps = append(ps, core.Problemf("releaseNamespace", "%q is not a valid namespace name: %s (e.g. %s)", s.ReleaseNamespace, strings.Join(errs, "; "), DefaultNamespace))
	}
	ps = append(ps, s.Chart.Validate().At("chart")...)
	return append(ps, s.Registry.Validate()...)
}

// Resolve makes the chart's local paths absolute with abs.
func (s *Spec) Resolve(abs func(string) string) { s.Chart.Resolve(abs) }

// Load checks that the chart's local files exist, each problem at its field.
func (s *Spec) Load() core.Problems { return s.Chart.CheckFiles().At("chart") }

// checkServer accepts an IP address or a DNS host name; its problems are at the server's own
// field ("").
func checkServer(server string) core.Problems {
	if strings.TrimSpace(server) == "" {
		return core.Problems{core.Problemf("", "is required: give the NFS server's IP address or host name, e.g. 192.0.2.10")}
	}
	if net.ParseIP(server) != nil {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(server); len(errs) > 0 {
		return core.Problems{core.Problemf("", "%q is neither an IP address nor a host name: a host name is at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. 192.0.2.10 or nfs.example.com)", server)}
	}
	return nil
}

// CheckPath checks an export path: absolute, with no spaces or commas (which /etc/exports and
// the mount options cannot carry). Its problems are at the path's own field (""): put them at
// yours with At. `storage exports` checks its --nfs-path with it.
func CheckPath(p string) core.Problems {
	switch {
	case p == "":
		return core.Problems{core.Problemf("", "is required: give the exported directory on the NFS server, e.g. /nfsroot/kubeflow_nfs")}
	case !strings.HasPrefix(p, "/"):
		return core.Problems{core.Problemf("", "%q is relative: give the absolute exported directory on the NFS server, e.g. /nfsroot/kubeflow_nfs", p)}
	case strings.ContainsAny(p, " \t\n,"):
		return core.Problems{core.Problemf("", "%q contains a space or a comma, which /etc/exports cannot carry: export a directory without them", p)}
	}
	return nil
}

// isDefault tells whether the class is to be the only default (nil is the default, true).
func (s *Spec) isDefault() bool { return s.MakeDefault == nil || *s.MakeDefault }

// values are the chart values the section sets; -f and --set come on top (see helm.Spec).
func (s *Spec) values() map[string]any {
	return map[string]any{
		"nfs": map[string]any{"server": s.NFSServer, "path": path.Clean(s.NFSPath)},
		"storageClass": map[string]any{
			"name":         s.StorageClass,
			"defaultClass": s.isDefault(),
		},
	}
}
