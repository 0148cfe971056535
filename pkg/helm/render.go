package helm

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/action"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Rendered is a chart rendered as Ensure would install or upgrade it.
type Rendered struct {
	// Chart is the chart's name and version, e.g. "metallb-0.16.1".
	Chart string
	// Objects are the manifest's objects, then the hooks' (helm runs those as Jobs and Pods on
	// install, upgrade, test or delete: they pull images too).
	Objects []*unstructured.Unstructured
}

// Render renders the chart of s with the values Ensure would send (the deployed release's
// values under them with ReuseValues), for this cluster's Kubernetes version and API versions,
// changing nothing: no release is read beyond the deployed one, nothing is written. The images
// are the chart's own (s.Images is Ensure's post-render step, not applied here: `images` lists
// what upstream names). Bad input (an unknown version, a bad --set) is a usage error, as in
// Ensure.
func (c *Client) Render(ctx context.Context, s Spec) (*Rendered, error) {
	if s.Namespace == "" || (s.ChartName == "" && s.Chart.Chart == "") {
		return nil, fmt.Errorf("helm: release %q: namespace and chart name are required", s.ReleaseName)
	}
	ch, err := c.chartFor(ctx, s)
	if err != nil {
		return nil, err
	}
	if s.ChartName == "" {
		s.ChartName = ch.Metadata.Name
	}
	vals, err := valuesOf(ch, s)
	if err != nil {
		return nil, err
	}
	name := s.ReleaseName
	if name == "" {
		name = s.ChartName
	}
	if s.ReuseValues {
		deployed, err := c.Find(s.Namespace, s.ChartName)
		if err != nil {
			return nil, err
		}
		if deployed != nil {
			vals = mergeValues(copyValues(deployed.Config), vals)
			name = deployed.Name
		}
	}
	cfg, err := c.config(s.Namespace)
	if err != nil {
		return nil, err
	}
	in := action.NewInstall(cfg)
	in.ReleaseName = name
	in.Namespace = s.Namespace
	in.DryRun = true
	in.DryRunOption = string(core.DryRunClient)
	in.HideSecret = true
	if err := c.renderOnly(in); err != nil {
		return nil, err
	}
	rel, err := in.RunWithContext(ctx, ch, vals)
	if err != nil {
		return nil, c.actionError(err, "render", s, name, ch)
	}
	out := &Rendered{Chart: ch.Metadata.Name + "-" + ch.Metadata.Version}
	manifests := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		manifests = append(manifests, h.Manifest)
	}
	for _, m := range manifests {
		objs, err := c.manifestList(s.Namespace, m)
		if err != nil {
			return nil, fmt.Errorf("helm: chart %s rendered a manifest that does not parse: %w", out.Chart, err)
		}
		out.Objects = append(out.Objects, objs...)
	}
	return out, nil
}
