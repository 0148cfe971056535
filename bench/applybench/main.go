// Command applybench compares the apply engine with `kubectl apply --server-side` on the same
// kind of fresh test bed, for the real Kubeflow manifests (kustomize-built in process):
//
//	go run ./bench/applybench [--manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz]
//
// It prints the first apply and the no-op re-run for each, and the ratios. kubectl is run the
// runbook's way: again until it succeeds (at most 10 passes), all passes counted. Both beds run
// with admission webhooks on, served by the stand-in.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/filesys"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kustomize"
)

func main() {
	manifests := flag.String("manifests", "../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz", "Kubeflow manifests archive")
	parallelism := flag.Int("parallelism", kube.DefaultParallelism, "engine requests in flight")
	flag.Parse()
	if err := run(*manifests, *parallelism); err != nil {
		fmt.Fprintln(os.Stderr, "applybench:", err)
		os.Exit(1)
	}
}

func run(archive string, parallelism int) error {
	tmp, err := os.MkdirTemp("", "applybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data, err := os.ReadFile(archive)
	if err != nil {
		return err
	}
	mem := filesys.MakeFsInMemory()
	if _, err := kustomize.ExtractTarGzFS(data, mem, "/m"); err != nil {
		return fmt.Errorf("%s: %w", archive, err)
	}
	built, err := kustomize.BuildFS(mem, "/m/example")
	if err != nil {
		return err
	}
	// v1.10.2's example holds one Profile whose name is an unresolved kustomize var
	// ($(profile-name)); neither tool can apply it, so both get the set without it.
	var objs []*unstructured.Unstructured
	for _, o := range built {
		if !strings.Contains(o.GetName(), "$(") {
			objs = append(objs, o)
		}
	}
	file := filepath.Join(tmp, "all.yaml")
	if err := writeYAML(file, objs); err != nil {
		return err
	}
	fmt.Printf("objects: %d (%s)\n", len(objs), filepath.Base(archive))

	engFirst, engRerun, err := timeEngine(objs, parallelism)
	if err != nil {
		return err
	}
	kFirst, kPasses, kRerun, err := benchkit.TimeKubectl(file, false)
	if err != nil {
		return err
	}
	fmt.Printf("engine  first apply: %s   no-op re-run: %s   (parallelism %d)\n", engFirst, engRerun, parallelism)
	fmt.Printf("kubectl first apply: %s   no-op re-run: %s   (apply --server-side --force-conflicts, %d passes to succeed)\n", kFirst, kRerun, kPasses)
	fmt.Printf("ratio kubectl/engine: first %.2fx, re-run %.2fx\n", benchkit.Ratio(kFirst, engFirst), benchkit.Ratio(kRerun, engRerun))
	return nil
}

func timeEngine(objs []*unstructured.Unstructured, parallelism int) (first, rerun benchkit.Sample, err error) {
	c, _, err := benchkit.StartBed(false)
	if err != nil {
		return first, rerun, err
	}
	defer benchkit.StopBed(c)
	apply := func() error {
		cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		_, err = (&kube.Applier{Clients: cl, ForceConflicts: true, Parallelism: parallelism}).Apply(ctx, objs)
		return err
	}
	return benchkit.FirstAndRerun("engine", apply)
}

func writeYAML(path string, objs []*unstructured.Unstructured) error {
	var b bytes.Buffer
	if err := kube.EncodeManifests(&b, objs); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
