// Package benchkit holds what the benchmarks share: fresh test beds and the kubectl side of a
// comparison, run the runbook's way.
package benchkit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// StartBed starts a fresh default test bed; with defaultClass it also gets a default
// StorageClass (what Kubeflow's preflight asks for). Stop it with StopBed.
func StartBed(defaultClass bool) (*testbed.Cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		return nil, err
	}
	if !defaultClass {
		return c, nil
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "example.com/none",
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		StopBed(c)
		return nil, err
	}
	return c, nil
}

// StopBed stops the test bed and removes its folder.
func StopBed(c *testbed.Cluster) {
	c.Stop()
	os.RemoveAll(c.Dir)
}

// TimeKubectl applies file with `kubectl apply --server-side --force-conflicts` on a fresh test
// bed the runbook's way, again until it succeeds (at most 5 passes, all counted), then once more
// as the no-op re-run.
func TimeKubectl(file string, defaultClass bool) (first time.Duration, passes int, rerun time.Duration, err error) {
	dir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return 0, 0, 0, err
	}
	kubectl := filepath.Join(dir, "kubectl")
	c, err := StartBed(defaultClass)
	if err != nil {
		return 0, 0, 0, err
	}
	defer StopBed(c)
	apply := func() error {
		cmd := exec.Command(kubectl, "--kubeconfig", c.Kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", file)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd.Run()
	}
	start := time.Now()
	for passes = 1; ; passes++ {
		if err = apply(); err == nil {
			break
		}
		if passes == 5 {
			return 0, 0, 0, fmt.Errorf("kubectl apply still failing after 5 passes: %w", err)
		}
	}
	first = time.Since(start)
	start = time.Now()
	if err = apply(); err != nil {
		return 0, 0, 0, fmt.Errorf("kubectl re-run: %w", err)
	}
	return first, passes, time.Since(start), nil
}
