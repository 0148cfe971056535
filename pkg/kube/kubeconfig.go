package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
)

// ErrNoCluster is what CheckKubeconfig's error wraps: no kubeconfig names a cluster.
var ErrNoCluster = errors.New("no cluster is configured")

// CheckKubeconfig fails, in one sentence, when no cluster is configured: the kubeconfig files
// named by --kubeconfig, $KUBECONFIG or the default ~/.kube/config do not exist or hold no
// cluster, and neither --server nor an in-cluster service account says where the API server is.
// Without it client-go falls back to localhost:8080 and every request fails with "connection
// refused", which hides the cause.
func (f *Factory) CheckKubeconfig() error {
	if f.ConfigFlags == nil {
		return nil
	}
	if s := f.ConfigFlags.APIServer; s != nil && *s != "" {
		return nil
	}
	if p := f.ConfigFlags.KubeConfig; p != nil && *p != "" {
		if _, err := os.Stat(*p); err != nil {
			return fmt.Errorf("%w: --kubeconfig %s does not exist; point --kubeconfig at the cluster's kubeconfig", ErrNoCluster, *p)
		}
	}
	raw, err := f.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return err // a kubeconfig that does not parse
	}
	if len(raw.Clusters) > 0 {
		return nil
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" && os.Getenv("KUBERNETES_SERVICE_PORT") != "" {
		return nil // in a pod: client-go uses the service account
	}
	var files []string
	if p := f.ConfigFlags.KubeConfig; p != nil && *p != "" {
		files = []string{*p}
	} else {
		files = clientcmd.NewDefaultClientConfigLoadingRules().GetLoadingPrecedence()
	}
	var missing, empty []string
	for _, p := range files {
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		} else {
			empty = append(empty, p)
		}
	}
	var why []string
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("kubeconfig %s does not exist", strings.Join(missing, ", ")))
	}
	if len(empty) > 0 {
		why = append(why, fmt.Sprintf("kubeconfig %s names no cluster", strings.Join(empty, ", ")))
	}
	if os.Getenv(clientcmd.RecommendedConfigPathEnvVar) == "" && (f.ConfigFlags.KubeConfig == nil || *f.ConfigFlags.KubeConfig == "") {
		why = append(why, "KUBECONFIG is not set")
	}
	return fmt.Errorf("%w: %s; point KUBECONFIG or --kubeconfig at the cluster's kubeconfig (e.g. the kube_config_cluster.yml RKE wrote: export KUBECONFIG=%s)",
		ErrNoCluster, strings.Join(why, "; "), filepath.Join("$PWD", "kube_config_cluster.yml"))
}
