package testbed

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// ConfigFlags returns kubectl's ConfigFlags for the admin kubeconfig, as the root command builds
// them from --kubeconfig, with a discovery cache of its own (a fresh folder in Dir per call, so
// each caller discovers like a new process would).
func (c *Cluster) ConfigFlags() *genericclioptions.ConfigFlags {
	flags := genericclioptions.NewConfigFlags(true)
	kubeconfig := c.Kubeconfig
	flags.KubeConfig = &kubeconfig
	if cache, err := os.MkdirTemp(c.Dir, "kube-cache-"); err == nil {
		flags.CacheDir = &cache
	}
	return flags
}
