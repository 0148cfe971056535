// Package storage is the runbook section "Installing a StorageClass": the
// nfs-subdir-external-provisioner chart, its StorageClass as the only default class, the
// runbook's test claim and pod, and the /etc/exports lines the NFS server needs. No cobra here:
// the command lives in pkg/plugin/storage.
package storage

import (
	"context"
	"fmt"
	"net"
	"path"
	"strings"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks/cluster"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/helm"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Defaults of the section (the runbook's helm command).
const (
	ChartName           = "nfs-subdir-external-provisioner"
	DefaultChartRepo    = "https://kubernetes-sigs.github.io/nfs-subdir-external-provisioner/"
	DefaultChartVersion = "4.0.18"
	ReleaseName         = "nfs-subdir-external-provisioner"
	DefaultNamespace    = "nfs-provisioner"
	DefaultClass        = "nfs-client"
)

// Config is the desired state of the section.
type Config struct {
	// Server is the NFS server's address or host name (chart value nfs.server).
	Server string
	// Path is the exported directory on the server (nfs.path), absolute.
	Path string
	// Class is the StorageClass the chart creates (storageClass.name).
	Class string
	// Namespace holds the release (created when missing).
	Namespace string
	// Default makes Class the only default StorageClass (storageClass.defaultClass, and every
	// other default class demoted).
	Default bool
	// Chart is --chart-repo/--chart-version/--chart/--set/-f.
	Chart core.ChartSource
}

// Validate checks the input without touching the cluster; bad input is a usage error (exit 2).
// It cleans Path (e.g. a trailing slash) so reruns compare equal.
func (c *Config) Validate() error {
	if err := ValidateServer(c.Server); err != nil {
		return err
	}
	p, err := CleanPath(c.Path)
	if err != nil {
		return err
	}
	c.Path = p
	if errs := validation.IsDNS1123Subdomain(c.Class); len(errs) > 0 {
		return core.UsageErrorf("--storage-class %q is not a valid StorageClass name: %s (use lower-case letters, digits, '-' and '.', e.g. nfs-client)", c.Class, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(c.Namespace); len(errs) > 0 {
		return core.UsageErrorf("--release-namespace %q is not a valid namespace name: %s (e.g. nfs-provisioner)", c.Namespace, strings.Join(errs, "; "))
	}
	return append(c.Chart.Validate(), c.Chart.CheckFiles()...).UsageError(core.ChartFlag)
}

// ValidateServer accepts an IP address or a DNS host name.
func ValidateServer(server string) error {
	if strings.TrimSpace(server) == "" {
		return core.UsageErrorf("--nfs-server is required: give the NFS server's IP address or host name, e.g. --nfs-server 192.0.2.10")
	}
	if net.ParseIP(server) != nil {
		return nil
	}
	if errs := validation.IsDNS1123Subdomain(server); len(errs) > 0 {
		return core.UsageErrorf("--nfs-server %q is neither an IP address nor a host name: a host name is at most 253 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. --nfs-server 192.0.2.10 or nfs.example.com)", server)
	}
	return nil
}

// CleanPath checks an export path (absolute; no spaces or commas, which /etc/exports and the
// mount options cannot carry) and returns it cleaned.
func CleanPath(p string) (string, error) {
	switch {
	case p == "":
		return "", core.UsageErrorf("--nfs-path is required: give the exported directory on the NFS server, e.g. --nfs-path /nfsroot/kubeflow_nfs")
	case !strings.HasPrefix(p, "/"):
		return "", core.UsageErrorf("--nfs-path %q is relative: give the absolute exported directory on the NFS server, e.g. /nfsroot/kubeflow_nfs", p)
	case strings.ContainsAny(p, " \t\n,"):
		return "", core.UsageErrorf("--nfs-path %q contains a space or a comma, which /etc/exports cannot carry: export a directory without them", p)
	}
	return path.Clean(p), nil
}

// Values are the chart values the section sets; -f and --set come on top (see helm.Spec).
func (c Config) Values() map[string]any {
	return map[string]any{
		"nfs": map[string]any{"server": c.Server, "path": c.Path},
		"storageClass": map[string]any{
			"name":         c.Class,
			"defaultClass": c.Default,
		},
	}
}

// Installer applies the section to one cluster.
type Installer struct {
	Clients  *kube.Clients
	Helm     *helm.Client
	Progress *output.Progress
	// DryRun is core.DryRunNone, DryRunClient or DryRunServer.
	DryRun core.DryRunStrategy
	// Wait waits for the provisioner to be ready.
	Wait bool
	// Timeout bounds the helm install or upgrade and its wait.
	Timeout time.Duration
}

func (in *Installer) dryRun() bool { return in.DryRun != "" && in.DryRun != core.DryRunNone }

// Install installs or upgrades the chart (creating the namespace) and, when c.Default, demotes
// every other default StorageClass. The report has one line per release or object and says which
// classes were demoted.
func (in *Installer) Install(ctx context.Context, c Config) (*output.Report, error) {
	rep := &output.Report{}
	res, _, err := in.Helm.Ensure(ctx, helm.Spec{
		ReleaseName:     ReleaseName,
		Namespace:       c.Namespace,
		ChartName:       ChartName,
		Chart:           c.Chart,
		Values:          c.Values(),
		CreateNamespace: true,
		Wait:            in.Wait,
		Timeout:         in.Timeout,
		DryRun:          in.DryRun,
	})
	if err != nil {
		return rep, core.Wrapf(err, "storage")
	}
	rep.Add(res)
	if !c.Default {
		rep.Notes = append(rep.Notes, fmt.Sprintf("StorageClass %s left as it is (--no-default): other default classes were not touched", c.Class))
		return rep, nil
	}
	demoted, err := in.DemoteOthers(ctx, c.Class)
	rep.Add(demoted...)
	if err != nil {
		return rep, err
	}
	return rep, nil
}

// DemoteOthers sets both default-class annotations to "false" on every default StorageClass
// other than keep, by server-side apply of just those annotations (taking them over from whoever
// set them). A class already demoted is not touched, so a rerun writes nothing.
func (in *Installer) DemoteOthers(ctx context.Context, keep string) ([]output.Result, error) {
	list, err := in.Clients.Client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("storage: list StorageClasses: %w", err)
	}
	var objs []*unstructured.Unstructured
	for _, sc := range list.Items {
		if sc.Name == keep || !cluster.IsDefaultClass(sc) {
			continue
		}
		objs = append(objs, demotion(sc))
	}
	if len(objs) == 0 {
		return nil, nil
	}
	a := &kube.Applier{Clients: in.Clients, ForceConflicts: true, NoManagedByLabel: true, DryRun: in.DryRun, Progress: in.Progress, Section: "storage"}
	if a.DryRun == "" {
		a.DryRun = core.DryRunNone
	}
	rep, err := a.Apply(ctx, objs)
	var out []output.Result
	for _, r := range rep.Results {
		r.Detail = fmt.Sprintf("demoted: no longer the default StorageClass, %s is", keep)
		out = append(out, r)
		verb := "demoted it"
		if in.dryRun() {
			verb = "would demote it (dry run)"
		}
		in.Progress.Logf("storage: StorageClass %s is a default class too; %s so that %s is the only default", r.Name, verb, keep)
	}
	if err != nil {
		return out, fmt.Errorf("storage: demote the other default StorageClasses: %w", err)
	}
	return out, nil
}

// demotion is the apply configuration that demotes sc: its name and both annotations "false".
func demotion(sc storagev1.StorageClass) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("storage.k8s.io/v1")
	u.SetKind("StorageClass")
	u.SetName(sc.Name)
	u.SetAnnotations(map[string]string{cluster.DefaultClassAnnotation: "false", cluster.BetaDefaultClassAnnotation: "false"})
	return u
}
