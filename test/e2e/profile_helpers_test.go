package e2e

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

var (
	e2eProfilesGVR    = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"}
	e2ePodDefaultsGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1alpha1", Resource: "poddefaults"}
)

// runbookPodDefaultIn is the runbook's object with its namespace filled in, as create_PodDefault.sh does.
func runbookPodDefaultIn(t *testing.T, ns string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(testbed.RunbookPodDefault, "<YOUR_USER_PROFILE_NAMESPACE>", ns)), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// createProfile creates a Profile owned by the user owner (kind User, an email).
func createProfile(t *testing.T, dyn dynamic.Interface, name, owner string) {
	t.Helper()
	p := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kubeflow.org/v1", "kind": "Profile",
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"owner": map[string]any{"kind": "User", "name": owner}},
	}}
	if _, err := dyn.Resource(e2eProfilesGVR).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Profile %s: %v", name, err)
	}
}

// waitNamespace waits until the namespace exists (the profile controller stand-in creates it).
func waitNamespace(t *testing.T, c *testbed.Cluster, name string) *corev1.Namespace {
	t.Helper()
	var ns *corev1.Namespace
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		ns, err = c.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("namespace %s never appeared: %v", name, err)
	}
	return ns
}

// podDefaultState is every PodDefault on the bed (namespace/name -> resourceVersion) and every
// namespace name: what bad input must leave as it is.
func podDefaultState(t *testing.T, c *testbed.Cluster, dyn dynamic.Interface) map[string]string {
	t.Helper()
	out := map[string]string{}
	list, err := dyn.Resource(e2ePodDefaultsGVR).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Items {
		out["poddefault "+o.GetNamespace()+"/"+o.GetName()] = o.GetResourceVersion()
	}
	for _, n := range namespaceNames(t, c) {
		out["namespace "+n] = ""
	}
	return out
}

// getPodDefault returns the PodDefault or nil when it does not exist.
func getPodDefault(t *testing.T, dyn dynamic.Interface, ns, name string) *unstructured.Unstructured {
	t.Helper()
	o, err := dyn.Resource(e2ePodDefaultsGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// waitPodDefault waits up to timeout for the PodDefault and returns how long it took.
func waitPodDefault(t *testing.T, dyn dynamic.Interface, ns, name string, timeout time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := dyn.Resource(e2ePodDefaultsGVR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("PodDefault %s/%s not there after %s", ns, name, timeout)
	}
	return time.Since(begin)
}

// background is the plugin running until stopped.
type background struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	exited         chan error
}

// startPlugin starts the plugin binary in the background against the test bed.
func startPlugin(t *testing.T, c *testbed.Cluster, args ...string) *background {
	t.Helper()
	b := &background{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	b.cmd = exec.Command(testbed.PluginBinary(t), args...)
	b.cmd.Env = c.Env("NO_COLOR=1")
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { b.exited <- b.cmd.Wait() }()
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
		}
	})
	return b
}

// waitOutput waits until the process has written want to stderr (or stdout).
func (b *background) waitOutput(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(b.stderr.String()+b.stdout.String(), want) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %q after %s\nstdout:\n%s\nstderr:\n%s", want, timeout, b.stdout, b.stderr)
}

// stop sends SIGTERM and returns the exit code (failing when it does not exit within 15 s).
func (b *background) stop(t *testing.T) int {
	t.Helper()
	return b.stopWith(t, syscall.SIGTERM)
}

// stopWith sends sig and returns the exit code (failing when it does not exit within 15 s).
func (b *background) stopWith(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := b.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15 s after %v\nstderr:\n%s", sig, b.stderr)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", b.stdout, b.stderr)
	return b.cmd.ProcessState.ExitCode()
}
