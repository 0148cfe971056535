// Command kubeflowbench compares `kubectl flexigrobots kubeflow`'s converge with
// `kubectl apply --server-side --force-conflicts` of the same build (the edited Kubeflow
// manifests plus the converge-owned Secrets), each on its own fresh test bed:
//
//	go run ./bench/kubeflowbench [--manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz]
//
// Both sides get the built objects (the kustomize build is not timed). The converge is timed
// with its preflight (kinds served, default StorageClass, CSR probe) and without the workload
// wait; kubectl is run the runbook's way, again until it succeeds (at most 5 passes, all counted).
// It prints the first apply and the no-op re-run of each, and the ratios.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func main() {
	manifests := flag.String("manifests", "../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz", "Kubeflow manifests archive")
	version := flag.String("version", "v1.10.2", "Kubeflow version of the archive")
	flag.Parse()
	if err := run(*manifests, *version); err != nil {
		fmt.Fprintln(os.Stderr, "kubeflowbench:", err)
		os.Exit(1)
	}
}

func run(archive, version string) error {
	p, err := kubeflow.ProfileFor(version)
	if err != nil {
		return err
	}
	ctx := context.Background()
	edits := kubeflow.Edits{RegistrationFlow: true, IngressServiceType: "LoadBalancer"}
	b, err := kubeflow.Build(ctx, p, kubeflow.Source{Manifests: archive}, edits)
	if err != nil {
		return err
	}
	creds, err := kubeflow.NewCredentials(ctx, nil, p, nil)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kubeflowbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "kubeflow.yaml")
	var yml bytes.Buffer
	if err := kubeflow.WriteYAML(&yml, append(append([]*unstructured.Unstructured{}, b.Objects...), creds.Objects...)); err != nil {
		return err
	}
	if err := os.WriteFile(file, yml.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Printf("objects: %d + %d Secrets (%s, %d edits)\n", len(b.Objects), len(creds.Objects), filepath.Base(archive), len(b.Edits))

	engFirst, engRerun, err := timeConverge(b)
	if err != nil {
		return err
	}
	kFirst, kPasses, kRerun, err := timeKubectl(file)
	if err != nil {
		return err
	}
	fmt.Printf("converge first apply: %8.2fs   no-op re-run: %8.2fs   (preflight included, workload wait excluded)\n", engFirst.Seconds(), engRerun.Seconds())
	fmt.Printf("kubectl  first apply: %8.2fs   no-op re-run: %8.2fs   (apply --server-side --force-conflicts, %d passes to succeed)\n", kFirst.Seconds(), kRerun.Seconds(), kPasses)
	fmt.Printf("ratio kubectl/converge: first %.2fx, re-run %.2fx\n", kFirst.Seconds()/engFirst.Seconds(), kRerun.Seconds()/engRerun.Seconds())
	return nil
}

// startBed starts a fresh test bed with a default StorageClass (what preflight asks for).
func startBed() (*testbed.Cluster, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testbed.Start(ctx, testbed.Options{})
	if err != nil {
		return nil, err
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: "standard", Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: "example.com/none",
	}
	if _, err := c.Client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func timeConverge(b *kubeflow.Built) (first, rerun time.Duration, err error) {
	c, err := startBed()
	if err != nil {
		return 0, 0, err
	}
	defer func() { c.Stop(); os.RemoveAll(c.Dir) }()
	converge := func() (time.Duration, error) {
		flags := genericclioptions.NewConfigFlags(true)
		flags.KubeConfig = &c.Kubeconfig
		start := time.Now()
		cl, err := kube.NewClients(cmdutil.NewFactory(flags))
		if err != nil {
			return 0, err
		}
		in := &kubeflow.Installer{Clients: cl, DryRun: cmdutil.DryRunNone, Timeout: 15 * time.Minute, ForceConflicts: true}
		_, err = in.Converge(context.Background(), b, nil)
		return time.Since(start), err
	}
	if first, err = converge(); err != nil {
		return 0, 0, fmt.Errorf("converge first run: %w", err)
	}
	if rerun, err = converge(); err != nil {
		return 0, 0, fmt.Errorf("converge re-run: %w", err)
	}
	return first, rerun, nil
}

func timeKubectl(file string) (first time.Duration, passes int, rerun time.Duration, err error) {
	dir, err := testbed.FindBinDir(testbed.V137)
	if err != nil {
		return 0, 0, 0, err
	}
	kubectl := filepath.Join(dir, "kubectl")
	c, err := startBed()
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { c.Stop(); os.RemoveAll(c.Dir) }()
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
