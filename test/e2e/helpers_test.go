package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// result is one run of the plugin binary.
type result struct {
	stdout, stderr string
	code           int
}

// runPlugin runs the plugin binary against the test bed with args and returns what it printed.
func runPlugin(t *testing.T, c *testbed.Cluster, args ...string) result {
	t.Helper()
	return runPluginIn(t, c, nil, args...)
}

func runPluginIn(t *testing.T, c *testbed.Cluster, stdin []byte, args ...string) result {
	t.Helper()
	return runPluginWith(t, c, stdin, nil, args...)
}

// runPluginWith runs the plugin with stdin (may be nil) and env added to the test's environment.
func runPluginWith(t *testing.T, c *testbed.Cluster, stdin []byte, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testbed.PluginBinary(t), args...)
	cmd.Env = c.Env(append([]string{"NO_COLOR=1"}, env...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run plugin %v: %v", args, err)
	}
	t.Logf("kubectl flexigrobots %v -> exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	return r
}

// waitRunningPods waits until n pods matching selector in ns are Running.
func waitRunningPods(t *testing.T, c *testbed.Cluster, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		pods = pods[:0]
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning {
				pods = append(pods, p)
			}
		}
		return len(pods) == n, nil
	})
	if err != nil {
		t.Fatalf("want %d Running pods %q in %s, have %d: %v", n, selector, ns, len(pods), err)
	}
	return pods
}

// lockedBuffer is an output buffer a running process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// webhookDelay is how long after its pods are Ready a webhook backend of the stand-in starts
// answering (a real cluster's gap until kube-proxy routes to a new pod), to widen the race.
const webhookDelay = 3 * time.Second

// assertWebhookRace checks that a run met the race the runbook's retry loop is about: webhooks
// of the build were registered while their backends were not serving. Whether a backend then
// answers a review during the run depends on timing (a pod created after its webhook came up),
// so that is logged, not asserted; TestLB and pkg/kube's webhook test assert calls.
func assertWebhookRace(t *testing.T, hooks *standins.AdmissionWebhooks) {
	t.Helper()
	early := hooks.RegisteredEarly()
	if len(early) == 0 {
		t.Error("no webhook was registered before its backend served: the race was not met")
	}
	t.Logf("webhooks registered before their backends served: %v; backends that answered reviews: %v", early, hooks.Served())
}

// assertCAInjected checks that the CA the injector wrote into a MutatingWebhookConfiguration
// is still there (a re-run must neither conflict with the injector nor wipe the CA).
func assertCAInjected(t *testing.T, c *testbed.Cluster, hooks *standins.AdmissionWebhooks, name string) {
	t.Helper()
	m, err := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range m.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, hooks.CAPEM()) {
			t.Errorf("%s/%s: caBundle is not the injected CA after the re-run", name, w.Name)
		}
	}
}
