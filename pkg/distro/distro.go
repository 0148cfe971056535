// Package distro tells which Kubernetes distribution runs the cluster (RKE1, RKE2, k3s or another)
// from the server's version and its nodes' annotations, so that a fix naming control-plane flags
// says them the way that distribution takes them.
package distro

import (
	"context"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Distribution is a Kubernetes distribution.
type Distribution string

// The distributions told apart.
const (
	RKE1  Distribution = "RKE"
	RKE2  Distribution = "RKE2"
	K3s   Distribution = "k3s"
	Other Distribution = ""
)

// FromVersion reads the distribution from the server's gitVersion: RKE2 builds report
// vX.Y.Z+rke2rN, k3s vX.Y.Z+k3sN, RKE1's hyperkube vX.Y.Z-rancherN (not every RKE1 release
// keeps the suffix; Detect also reads the nodes).
func FromVersion(gitVersion string) Distribution {
	switch {
	case strings.Contains(gitVersion, "+rke2"):
		return RKE2
	case strings.Contains(gitVersion, "+k3s"):
		return K3s
	case strings.Contains(gitVersion, "-rancher"):
		return RKE1
	}
	return Other
}

// FromNodeAnnotations reads the distribution from a node's annotations: RKE1 annotates nodes
// rke.cattle.io/external-ip and internal-ip, RKE2 rke2.io/*, k3s k3s.io/*.
func FromNodeAnnotations(annotations map[string]string) Distribution {
	for k := range annotations {
		switch {
		case strings.HasPrefix(k, "rke2.io/"):
			return RKE2
		case strings.HasPrefix(k, "k3s.io/"):
			return K3s
		case strings.HasPrefix(k, "rke.cattle.io/"):
			return RKE1
		}
	}
	return Other
}

// Detect asks the server: its version first, then one node's annotations. Errors leave Other.
func Detect(ctx context.Context, c kubernetes.Interface) Distribution {
	if v, err := c.Discovery().ServerVersion(); err == nil {
		if d := FromVersion(v.GitVersion); d != Other {
			return d
		}
	}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil || len(nodes.Items) == 0 {
		return Other
	}
	return FromNodeAnnotations(nodes.Items[0].Annotations)
}

// SigningFix says how to make kube-controller-manager sign CertificateSigningRequests with the
// cluster CA on d.
func SigningFix(d Distribution) string {
	switch d {
	case RKE1:
		return `on RKE add cluster-signing-cert-file/cluster-signing-key-file to kube-controller extra_args
(Rancher: Cluster Management > Edit Config > Edit as YAML), save, and wait for the cluster to update:
    kube-controller:
      extra_args:
        cluster-signing-cert-file: /etc/kubernetes/ssl/kube-ca.pem
        cluster-signing-key-file: /etc/kubernetes/ssl/kube-ca-key.pem
then re-run the command`
	case RKE2, K3s:
		name, service := "rke2", "rke2-server"
		if d == K3s {
			name, service = "k3s", "k3s"
		}
		return `on ` + string(d) + ` kube-controller-manager starts with per-signer signing flags; if they were overridden, set them
in /etc/rancher/` + name + `/config.yaml on every server node and restart ` + service + ` one node at a time:
    kube-controller-manager-arg:
      - cluster-signing-kube-apiserver-client-cert-file=<the cluster's client CA certificate>
      - cluster-signing-kube-apiserver-client-key-file=<its key>`
	}
	return `start kube-controller-manager with --cluster-signing-cert-file and --cluster-signing-key-file (the cluster CA);
on RKE: kube-controller extra_args cluster-signing-cert-file: /etc/kubernetes/ssl/kube-ca.pem and cluster-signing-key-file: /etc/kubernetes/ssl/kube-ca-key.pem;
on RKE2 or k3s: kube-controller-manager-arg in /etc/rancher/rke2/config.yaml (or /etc/rancher/k3s/config.yaml)`
}
