package helm

import (
	"context"
	"fmt"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// Uninstall uninstalls the release of chartName in namespace (under whatever name it has) through
// helm's own uninstall action, as `helm uninstall` does: the release's objects and its history go;
// the CRDs of the chart's crds/ folder and the namespace stay, as with helm (see kube.Leftovers).
// It returns the release it found (nil: none, and nothing happened). See UninstallRelease for dry
// runs and waits.
func (c *Client) Uninstall(ctx context.Context, namespace, chartName string, dryRun core.DryRunStrategy, wait bool, timeout time.Duration) (res output.Result, rel *release.Release, err error) {
	rel, err = c.Find(namespace, chartName)
	if err != nil || rel == nil {
		return res, nil, err
	}
	res, err = c.UninstallRelease(ctx, rel, dryRun, wait, timeout)
	return res, rel, err
}

// UninstallRelease uninstalls rel (as Find returned it). A dry run (client or server) deletes
// nothing and reports the release. wait waits, within timeout, for the deleted objects to be gone.
func (c *Client) UninstallRelease(ctx context.Context, rel *release.Release, dryRun core.DryRunStrategy, wait bool, timeout time.Duration) (output.Result, error) {
	namespace := rel.Namespace
	res := output.Result{Kind: ResultKind, Namespace: namespace, Name: rel.Name, Action: output.Deleted, Detail: "uninstalled, chart " + chartNameOf(rel.Chart) + "-" + rel.Chart.Metadata.Version}
	if dryRun != "" && dryRun != core.DryRunNone {
		res.DryRun = dryRun
		return res, nil
	}
	cfg, err := c.config(namespace)
	if err != nil {
		return res, err
	}
	u := action.NewUninstall(cfg)
	u.Wait, u.Timeout, u.DeletionPropagation = wait, timeout, "background"
	c.progress.Update("helm: uninstalling release %s/%s", namespace, rel.Name)
	defer c.progress.Done()
	done := make(chan error, 1)
	go func() { // helm's uninstall takes no context: Ctrl-C returns at once, helm finishes or stops with the process
		_, err := u.Run(rel.Name)
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		return res, fmt.Errorf("helm: uninstall release %s/%s: %w", namespace, rel.Name, err)
	}
	return res, nil
}

// CRDNames names the CustomResourceDefinitions of rel's crds/ folders (its subcharts' too), which
// helm installs but never uninstalls.
func CRDNames(rel *release.Release) ([]string, error) {
	if rel == nil || rel.Chart == nil {
		return nil, nil
	}
	objs, err := chartCRDs(rel.Chart)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, o := range objs {
		if o.GetKind() == "CustomResourceDefinition" && o.GetName() != "" {
			names = append(names, o.GetName())
		}
	}
	return names, nil
}
