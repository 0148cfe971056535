package gpu

import (
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// Budgets of the commands (their --timeout defaults): the operator's is also the block's.
const (
	DefaultTimeout        = 10 * time.Minute
	DefaultSlicingTimeout = 5 * time.Minute
)

// Time-slicing defaults. ConfigKey is the file name of the runbook
// (`kubectl create configmap time-slicing --from-file deployment/gpu-time-slicing-config.yaml`),
// which the release's devicePlugin.config.default names.
const (
	DefaultConfigName = "time-slicing-config"
	ConfigKey         = "gpu-time-slicing-config.yaml"
	// MaxReplicas bounds slicing.replicas (--replicas).
	MaxReplicas = 64
)

// Spec is the gpu section's desired state: the platform file's gpu block, and what `gpu
// operator` (Operator) and `gpu slicing` (Slicing, with the release's namespace and chart in
// Operator) bind their flags into. The operator is always applied, unless SkipOperator;
// time-slicing when Slicing is set.
type Spec struct {
	Operator OperatorSpec `json:"operator,omitzero"`
	// Slicing is the device plugin's time-slicing; nil leaves it as it is.
	Slicing *SlicingSpec `json:"slicing,omitempty"`
	// Registry is where the operator's pods, and the ones its ClusterPolicy starts, pull their
	// images from (imageRegistry, imagePullSecrets at the top of the block; `gpu operator`'s
	// --image-registry, --image-pull-secret).
	images.Registry
	// SkipOperator leaves the operator's release as it is and configures time-slicing only, on
	// the release in Operator.ReleaseNamespace (upgraded with Operator.Chart when that gives a
	// version or a chart; the release's own chart otherwise): `gpu slicing`, never in the file.
	SkipOperator bool `json:"-"`
}

// OperatorSpec is the block's operator: NVIDIA's gpu-operator chart.
type OperatorSpec struct {
	// ReleaseNamespace holds the release (DefaultNamespace); time-slicing's ConfigMap goes there too.
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	// DriverEnabled is the chart's driver.enabled (false: the drivers are on the host).
	DriverEnabled bool `json:"driverEnabled,omitempty"`
	// Chart is the gpu-operator chart; an empty Version picks the one that fits the server
	// (versions.GPUOperator).
	Chart core.ChartSource `json:"chart,omitzero"`
}

// SlicingSpec is the block's slicing: what the device plugin is asked.
type SlicingSpec struct {
	// Replicas is how many pods share each physical GPU, 1 to MaxReplicas (1 turns slicing off).
	Replicas int `json:"replicas"`
	// RenameByDefault advertises nvidia.com/gpu.shared instead of nvidia.com/gpu.
	RenameByDefault bool `json:"renameByDefault,omitempty"`
	// FailRequestsGreaterThanOne rejects pods asking for more than one shared GPU.
	FailRequestsGreaterThanOne bool `json:"failRequestsGreaterThanOne,omitempty"`
	// ConfigName is the ConfigMap holding the device plugin's config (DefaultConfigName).
	ConfigName string `json:"configName,omitempty"`
}

// Default fills the release namespace, the chart repository (and helm's keyring) and the
// time-slicing ConfigMap's name; the chart version stays empty (picked for the server).
func (s *Spec) Default() {
	if s.Operator.ReleaseNamespace == "" {
		s.Operator.ReleaseNamespace = DefaultNamespace
	}
	s.Operator.Chart.Default(DefaultChartRepo, "")
	if s.Slicing != nil && s.Slicing.ConfigName == "" {
		s.Slicing.ConfigName = DefaultConfigName
	}
}

// Validate checks the block alone (no file read, no cluster), each problem at its field.
func (s *Spec) Validate() core.Problems {
	var ps core.Problems
	if s.Operator.ReleaseNamespace == "" {
		ps = append(ps, core.Problemf("operator.releaseNamespace", "is empty: give the namespace of the gpu-operator release, e.g. %s", DefaultNamespace))
	}
	ps = append(ps, s.Operator.Chart.Validate().At("operator.chart")...)
	switch {
	case s.Slicing != nil:
		ps = append(ps, s.Slicing.validate().At("slicing")...)
	case s.SkipOperator:
		ps = append(ps, core.Problemf("slicing", "is missing: without the operator there is nothing to do"))
	}
	return append(ps, s.Registry.Validate()...)
}

func (s *SlicingSpec) validate() core.Problems {
	var ps core.Problems
	if msg := replicasProblem(s.Replicas); msg != "" {
		ps = append(ps, core.Problemf("replicas", "%s", msg))
	}
	if errs := validation.IsDNS1123Subdomain(s.ConfigName); len(errs) > 0 {
		ps = append(ps, core.Problemf("configName", "%q is not a valid ConfigMap name: %s", s.ConfigName, errs[0]))
	}
	return ps
}

// replicasHint says what replicas means, in every message about it.
const replicasHint = "how many pods share each physical GPU, e.g. 4; 1 turns time-slicing off"

// replicasProblem says what is wrong with n as slicing.replicas ("" when nothing).
func replicasProblem(n int) string {
	switch {
	case n == 0:
		return "is required: " + replicasHint
	case n < 1 || n > MaxReplicas:
		return strconv.Itoa(n) + " is out of range: give a whole number from 1 to " + strconv.Itoa(MaxReplicas) + " (" + replicasHint + ")"
	}
	return ""
}

// ParseReplicas reads --replicas: an integer from 1 to MaxReplicas (exit code 2 otherwise).
func ParseReplicas(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxReplicas {
		return 0, core.UsageErrorf("invalid --replicas %q: give a whole number from 1 to %d (how many pods share each physical GPU, e.g. --replicas 4; 1 or --disable turns time-slicing off)", s, MaxReplicas)
	}
	return n, nil
}

// Resolve makes the chart's local paths absolute with abs.
func (s *Spec) Resolve(abs func(string) string) { s.Operator.Chart.Resolve(abs) }

// Load checks that the chart's local files exist, each problem at its field.
func (s *Spec) Load() core.Problems { return s.Operator.Chart.CheckFiles().At("operator.chart") }

// namespace is the release's namespace (time-slicing's too).
func (s *Spec) namespace() string { return s.Operator.ReleaseNamespace }
