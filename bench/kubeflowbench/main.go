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
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/cmdutil"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
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
	kFirst, kPasses, kRerun, err := benchkit.TimeKubectl(file, true)
	if err != nil {
		return err
	}
	fmt.Printf("converge first apply: %s   no-op re-run: %s   (preflight included, workload wait excluded)\n", engFirst, engRerun)
	fmt.Printf("kubectl  first apply: %s   no-op re-run: %s   (apply --server-side --force-conflicts, %d passes to succeed)\n", kFirst, kRerun, kPasses)
	fmt.Printf("ratio kubectl/converge: first %.2fx, re-run %.2fx\n", benchkit.Ratio(kFirst, engFirst), benchkit.Ratio(kRerun, engRerun))
	return nil
}

func timeConverge(b *kubeflow.Built) (first, rerun benchkit.Sample, err error) {
	c, err := benchkit.StartBed(true)
	if err != nil {
		return first, rerun, err
	}
	defer benchkit.StopBed(c)
	converge := func() error {
		cl, err := kube.NewClients(cmdutil.NewFactory(c.ConfigFlags()))
		if err != nil {
			return err
		}
		in := &kubeflow.Installer{Clients: cl, DryRun: cmdutil.DryRunNone, Timeout: 15 * time.Minute, ForceConflicts: true}
		_, err = in.Converge(context.Background(), b, nil)
		return err
	}
	return benchkit.FirstAndRerun("converge", converge)
}
