package gpu

import (
	"strings"
	"testing"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/plugin/cmdutil"
)

func TestSlicingValidate(t *testing.T) {
	valid := func() *SlicingOptions {
		return &SlicingOptions{
			MutatingFlags:    cmdutil.MutatingFlags{DryRun: core.DryRunNone, Wait: true, Timeout: time.Minute, Output: "table"},
			Chart:            core.ChartSource{Repo: "https://charts.example.org"},
			ReleaseNamespace: "gpu-operator", ConfigName: "time-slicing-config",
		}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*SlicingOptions)
		want   int
		errHas string
	}{
		{"replicas 4", func(o *SlicingOptions) { o.Replicas = "4" }, 4, ""},
		{"disable", func(o *SlicingOptions) { o.Disable = true }, 1, ""},
		{"disable with replicas 1", func(o *SlicingOptions) { o.Disable, o.Replicas = true, "1" }, 1, ""},
		{"no replicas", func(o *SlicingOptions) {}, 0, "--replicas is required"},
		{"disable with replicas 4", func(o *SlicingOptions) { o.Disable, o.Replicas = true, "4" }, 0, "drop --replicas 4"},
		{"bad config name", func(o *SlicingOptions) { o.Replicas, o.ConfigName = "2", "Time_Slicing" }, 0, "--config-name"},
		{"empty namespace", func(o *SlicingOptions) { o.Replicas, o.ReleaseNamespace = "2", "" }, 0, "--release-namespace"},
		{"bad output", func(o *SlicingOptions) { o.Replicas, o.Output = "2", "xml" }, 0, "output format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.edit(o)
			err := o.Validate()
			if tc.errHas == "" {
				if err != nil || o.replicas != tc.want {
					t.Fatalf("Validate: %v, replicas %d; want nil, %d", err, o.replicas, tc.want)
				}
				return
			}
			if !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("Validate: %v; want a usage error containing %q", err, tc.errHas)
			}
		})
	}
}
