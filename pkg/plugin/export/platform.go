package export

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/platform"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
)

// platformHeader opens the YAML of `export --platform`.
const platformHeader = `# The platform file of this cluster: each block as the section's last finished apply ran it
# (kubectl flexigrobots export --platform; recorded in ConfigMap %s/%s).
# Files (certificates, secret files, charts, manifests) are named by the paths they had where that
# apply ran: put them there, or change the paths.
`

// platformFile writes the recorded blocks as a platform file, in the runbook's order.
func (o *Options) platformFile(ctx context.Context, c *kube.Clients) error {
	blocks, err := section.RecordedBlocks(ctx, c)
	if err != nil {
		return fmt.Errorf("export --platform: %w", err)
	}
	var names []string
	for _, name := range registry.Names() {
		if _, ok := blocks[name]; ok {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("export --platform: no section was applied by the plugin on this cluster (ConfigMap %s/%s holds none): write the platform file by hand (`kubectl flexigrobots apply --print-example`); `kubectl flexigrobots diff -f plugins.yaml` shows whether it matches what runs",
			kube.RecordNamespace, section.PlatformRecord)
	}
	var b strings.Builder
	fmt.Fprintf(&b, platformHeader, kube.RecordNamespace, section.PlatformRecord)
	if strings.Contains(blocks["kubeflow"], "\nversion: ") || strings.HasPrefix(blocks["kubeflow"], "version: ") {
		b.WriteString("# kubeflow.version is the release running here: on another Kubernetes leave it out for the one\n# that fits there (kubectl flexigrobots releases --kubernetes 1.N).\n")
	}
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: exported\nspec:\n", platform.APIVersion, platform.Kind)
	for _, name := range names {
		fmt.Fprintf(&b, "  %s:\n", name)
		block := strings.TrimRight(blocks[name], "\n")
		if block == "{}" {
			b.WriteString("    {}\n")
			continue
		}
		for _, line := range strings.Split(block, "\n") {
			b.WriteString("    " + line + "\n")
		}
	}
	out := []byte(b.String())
	if o.Output == output.JSON {
		var doc map[string]any
		if err := yaml.Unmarshal(out, &doc); err != nil {
			return fmt.Errorf("export --platform: a recorded block does not read back: %w", err)
		}
		if out, err = json.MarshalIndent(doc, "", "  "); err != nil {
			return err
		}
		out = append(out, '\n')
	}
	if _, err := o.streams.Out.Write(out); err != nil {
		return err
	}
	fmt.Fprintf(o.streams.ErrOut, "export: the platform file of %s (%s)\n", output.Count(len(names), "section"), strings.Join(names, ", "))
	return nil
}
