// Command kubeflowbench compares `kubectl flexigrobots kubeflow` with the runbook's way twice:
// end to end, the whole command as a user runs it against the runbook's commands (see
// endtoend.go), then the apply phase alone, below.
//
// The apply-phase comparison times `kubectl flexigrobots kubeflow`'s converge against
// `kubectl apply --server-side --force-conflicts` of the same build (the edited Kubeflow
// manifests plus the converge-owned Secrets), each on its own fresh test bed with admission
// webhooks on (the stand-in serves each webhook once its workload is Ready, plus
// benchkit.WebhookDelay, so webhooks registered early refuse calls, as on a real cluster):
//
//	go run ./bench/kubeflowbench [--manifests ../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz] [--plugin bin/kubectl-flexigrobots] [--only end-to-end|apply]
//
// Both sides get the built objects (the kustomize build is not timed). The converge is timed
// with its preflight (kinds served, default StorageClass, CSR probe) and without the workload
// wait; kubectl is run the runbook's way, again until it succeeds (at most 10 passes, all
// counted). Each of --pairs rounds gets fresh beds; it prints every round, then the medians of
// the first apply and the no-op re-run of each, the floor (a blind parallel
// server-side apply of the same objects on a bed whose webhooks all answer already; see
// benchkit.TimeFloor), and the ratios.
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
	"k8s.io/client-go/rest"

	"github.com/flexigrobots/kubectl-flexigrobots/bench/internal/benchkit"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

func main() {
	manifests := flag.String("manifests", "../shared/fixtures/kubeflow/manifests-1.10.2.tar.gz", "Kubeflow manifests archive")
	version := flag.String("version", "v1.10.2", "Kubeflow version of the archive")
	pairs := flag.Int("pairs", 3, "rounds of each comparison, each side on fresh beds; medians are printed")
	plugin := flag.String("plugin", "bin/kubectl-flexigrobots", "the plugin binary (make build), for the end-to-end comparison")
	only := flag.String("only", "", "run one comparison only: end-to-end or apply (default: both, end to end first)")
	flag.Parse()
	if *only != "" && *only != "end-to-end" && *only != "apply" {
		fmt.Fprintf(os.Stderr, "kubeflowbench: --only %q: give end-to-end or apply (or leave it out for both)\n", *only)
		os.Exit(2)
	}
	rest.SetDefaultWarningHandler(rest.NoWarnings{}) // the build's deprecation warnings, once per bed
	err := error(nil)
	if *only != "apply" {
		var abs string
		if abs, err = filepath.Abs(*plugin); err == nil {
			err = runEndToEnd(abs, *manifests, *pairs)
		}
	}
	if err == nil && *only != "end-to-end" {
		err = run(*manifests, *version, *pairs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubeflowbench:", err)
		os.Exit(1)
	}
}

func run(archive, version string, pairs int) error {
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
	creds, err := kubeflow.NewCredentials(ctx, nil, b, nil)
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
	all := append(append([]*unstructured.Unstructured{}, b.Objects...), creds.Objects...)
	if err := kubeflow.WriteYAML(&yml, all); err != nil {
		return err
	}
	if err := os.WriteFile(file, yml.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Printf("objects: %d + %d Secrets (%s, %d edits)\n", len(b.Objects), len(creds.Objects), filepath.Base(archive), len(b.Edits))

	var engFirst, engRerun, kFirst, kRerun, floor []benchkit.Sample
	for i := 1; i <= pairs; i++ {
		ef, er, err := timeConverge(b)
		if err != nil {
			return err
		}
		kf, kPasses, kr, err := benchkit.TimeKubectl(file, true)
		if err != nil {
			return err
		}
		fl, fPasses, err := benchkit.TimeFloor(all, true, kube.DefaultParallelism)
		if err != nil {
			return err
		}
		fmt.Printf("round %d: converge %s / %s   kubectl %s / %s (%d passes)   floor %s (%d passes)\n",
			i, ef, er, kf, kr, kPasses, fl, fPasses)
		engFirst, engRerun, kFirst, kRerun, floor = append(engFirst, ef), append(engRerun, er), append(kFirst, kf), append(kRerun, kr), append(floor, fl)
	}
	ef, er, kf, kr, fl := benchkit.Median(engFirst), benchkit.Median(engRerun), benchkit.Median(kFirst), benchkit.Median(kRerun), benchkit.Median(floor)
	fmt.Printf("median of %d, admission webhooks on:\n", pairs)
	fmt.Printf("converge first apply: %s   no-op re-run: %s   (preflight included, workload wait excluded)\n", ef, er)
	fmt.Printf("kubectl  first apply: %s   no-op re-run: %s   (apply --server-side --force-conflicts, again until it succeeds)\n", kf, kr)
	fmt.Printf("floor    first apply: %s   (blind parallel apply, every webhook already up)\n", fl)
	fmt.Printf("ratio kubectl/converge: first %.2fx, re-run %.2fx;  converge/floor: first %.2fx\n",
		benchkit.Ratio(kf, ef), benchkit.Ratio(kr, er), benchkit.Ratio(ef, fl))
	return nil
}

func timeConverge(b *kubeflow.Built) (first, rerun benchkit.Sample, err error) {
	c, _, err := benchkit.StartBed(true)
	if err != nil {
		return first, rerun, err
	}
	defer benchkit.StopBed(c)
	converge := func() error {
		cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
		if err != nil {
			return err
		}
		in := &kubeflow.Installer{Clients: cl, DryRun: core.DryRunNone, ForceConflicts: true}
		ctx, cancel := core.WithBudget(context.Background(), 15*time.Minute)
		defer cancel()
		_, err = in.Converge(ctx, b, nil)
		return err
	}
	return benchkit.FirstAndRerun("converge", converge)
}
