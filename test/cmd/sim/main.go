// Command sim starts the simulated RKE cluster in the foreground so a person can try the plugin by
// hand: it prints `export KUBECONFIG=...` and runs until Ctrl-C, then stops every process it started.
//
//	go run ./test/cmd/sim [--version v1.21.14] [--webhooks] [--no-signing]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/test/standins"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

func main() {
	opts := testbed.Options{StandIns: standins.All()}
	flag.StringVar(&opts.Version, "version", testbed.V137, "Kubernetes version: "+testbed.V137+" or "+testbed.V121)
	flag.BoolVar(&opts.Webhooks, "webhooks", false, "turn on the admission webhook plugins, with the stand-in that serves every registered webhook once its pods are Ready")
	flag.BoolVar(&opts.NoSigning, "no-signing", false, "start kube-controller-manager without cluster-signing flags (the RKE default)")
	flag.StringVar(&opts.Dir, "dir", "", "folder for kubeconfig, data and logs (default: a temp folder)")
	flag.Parse()
	keep := opts.Dir != ""
	if opts.Webhooks {
		opts.StandIns = append(opts.StandIns, standins.NewAdmissionWebhooks(3*time.Second))
	}
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "sim: "+format+"\n", args...) }

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := testbed.Start(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
	fmt.Printf("export KUBECONFIG=%s\n", c.Kubeconfig)
	if fixtures := testbed.DefaultFixturesDir(); fixtures != "" {
		// A local mirror of the upstream chart repositories, for --chart-repo on this machine.
		work := filepath.Join(c.Dir, "charts")
		if err := os.MkdirAll(work, 0o755); err == nil {
			if url, stopRepo, err := testbed.ServeChartDir(filepath.Join(fixtures, "charts"), work); err == nil {
				defer stopRepo()
				fmt.Printf("export CHART_REPO=%s\n", url)
			} else {
				fmt.Fprintln(os.Stderr, "sim: chart mirror:", err)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "sim: %s ready in %s; logs in %s; Ctrl-C stops it\n", c.Version, c.StartTime.Round(1e6), c.Dir)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "sim: stopping")
	c.Stop()
	if keep {
		fmt.Fprintf(os.Stderr, "sim: stopped; logs kept in %s\n", c.Dir)
		return
	}
	// A folder of its own choosing is the sim's to clean up: nothing is left in the temp folder.
	if err := os.RemoveAll(c.Dir); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "sim: stopped; removed %s (give --dir to keep the logs)\n", c.Dir)
}
