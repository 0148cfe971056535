package testbed

import (
	"os"
	"path/filepath"

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

// Env is the environment of a process that talks to the bed: the test's own, the bed's
// kubeconfig, kubectl's discovery cache in the bed's folder, then extra. kubectl keys that cache
// by the API server's address and keeps it for hours, so a bed on a port an earlier bed used
// would otherwise read that bed's kinds.
func (c *Cluster) Env(extra ...string) []string {
	env := append(os.Environ(), "KUBECONFIG="+c.Kubeconfig, "KUBECACHEDIR="+c.KubeCacheDir())
	return append(env, extra...)
}

// KubeCacheDir is the kubectl cache folder (KUBECACHEDIR) of the processes Env starts.
func (c *Cluster) KubeCacheDir() string { return filepath.Join(c.Dir, "kube-cache") }
