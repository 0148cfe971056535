package testbed

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
)

// The Go list of extra minors and the list hack/testbin.sh builds must not drift apart.
func TestAPIServerVersionsMatchTestbin(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "hack", "testbin.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^APISERVER_VERSIONS=\$\{APISERVER_VERSIONS:?-([^}]*)\}`).FindSubmatch(script)
	if m == nil {
		t.Fatal("hack/testbin.sh sets no APISERVER_VERSIONS default")
	}
	if got := strings.Fields(string(m[1])); !slices.Equal(got, APIServerVersions) {
		t.Fatalf("hack/testbin.sh builds %v, APIServerVersions is %v", got, APIServerVersions)
	}
}

func TestFindAPIServerBinDir(t *testing.T) {
	root := t.TempDir()
	t.Setenv("TESTBIN", root)
	_, err := FindAPIServerBinDir(V129)
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "hack/testbin.sh apiserver "+V129) {
		t.Fatalf("missing binaries: want ErrNotBuilt naming the build command, got %v", err)
	}
	dir := filepath.Join(root, V129)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := FindAPIServerBinDir(V129); err != nil || got != dir {
		t.Fatalf("FindAPIServerBinDir = %q, %v; want %q", got, err, dir)
	}
	if _, err := FindBinDir(V129); !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "kube-controller-manager") {
		t.Fatalf("a full bed needs the controllers too: got %v", err)
	}
}

// An apiserver-only bed runs etcd and kube-apiserver alone, on loopback with the loopback service
// range, is shared between callers, and StopShared ends it and removes its folder.
func TestSharedAPIServerBed(t *testing.T) {
	version := ""
	for _, v := range APIServerVersions {
		if _, err := FindAPIServerBinDir(v); err == nil {
			version = v
			break
		}
	}
	if version == "" {
		t.Skipf("no apiserver-only bed built (hack/testbin.sh apiserver): %v", APIServerVersions)
	}
	c := SharedAPIServer(t, Options{Version: version})
	t.Cleanup(func() { StopShared(t.Failed()) }) // a no-op after the StopShared below
	if again := SharedAPIServer(t, Options{Version: version}); again != c {
		t.Fatal("second SharedAPIServer call started another bed")
	}
	pids := c.PIDs()
	names := make([]string, 0, len(pids))
	for n := range pids {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"etcd", "kube-apiserver"}) {
		t.Errorf("processes %v, want etcd and kube-apiserver only", names)
	}

	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for name, cl := range cfg.Clusters {
		u, err := url.Parse(cl.Server)
		if err != nil || u.Hostname() != "127.0.0.1" {
			t.Errorf("kubeconfig cluster %s server %q: want 127.0.0.1", name, cl.Server)
		}
	}
	// The API server's own controller creates the Service shortly after it serves: on a loaded
	// machine that can take a few seconds.
	var svc *corev1.Service
	err = wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var gerr error
		svc, gerr = c.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
		return gerr == nil, nil
	})
	if err != nil {
		t.Fatalf("kubernetes Service: not there 30 s after the bed started: %v", err)
	}
	_, loopback, _ := net.ParseCIDR(ServiceCIDR)
	if ip := net.ParseIP(svc.Spec.ClusterIP); ip == nil || !loopback.Contains(ip) {
		t.Errorf("kubernetes Service ClusterIP %q outside %s", svc.Spec.ClusterIP, ServiceCIDR)
	}

	StopShared(false)
	if left := c.PIDs(); len(left) != 0 {
		t.Errorf("processes left after StopShared: %v", left)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("bed folder %s not removed: %v", c.Dir, err)
	}
}
