package distro

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		git  string
		ann  map[string]string
		want Distribution
		fix  string
	}{
		{"v1.34.10+rke2r1", nil, RKE2, "/etc/rancher/rke2/config.yaml"},
		{"v1.37.1+k3s1", nil, K3s, "/etc/rancher/k3s/config.yaml"},
		{"v1.21.14-rancher1", nil, RKE1, "kube-controller:\n      extra_args:"},
		{"v1.21.14", map[string]string{"rke.cattle.io/external-ip": "127.0.0.2"}, RKE1, "extra_args"},
		{"v1.33.7", map[string]string{"rke2.io/hostname": "n1"}, RKE2, "rke2-server"},
		{"v1.37.2", map[string]string{"node.alpha.kubernetes.io/ttl": "0"}, Other, "--cluster-signing-cert-file"},
	} {
		c := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Annotations: tc.ann}})
		c.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: tc.git}
		got := Detect(context.Background(), c)
		if got != tc.want || !strings.Contains(SigningFix(got), tc.fix) {
			t.Errorf("%s %v: got %q (fix %q), want %q with %q", tc.git, tc.ann, got, SigningFix(got), tc.want, tc.fix)
		}
	}
}
