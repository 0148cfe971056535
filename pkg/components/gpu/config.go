package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Time-slicing ConfigMap defaults. ConfigKey is the file name of the runbook
// (`kubectl create configmap time-slicing --from-file deployment/gpu-time-slicing-config.yaml`),
// which the release's devicePlugin.config.default names.
const (
	DefaultConfigName = "time-slicing-config"
	ConfigKey         = "gpu-time-slicing-config.yaml"
	// MaxReplicas bounds --replicas.
	MaxReplicas = 64
)

// SlicingConfig is what `gpu slicing` asks of the device plugin.
type SlicingConfig struct {
	// Replicas is how many pods share each physical GPU (1 turns slicing off).
	Replicas int
	// RenameByDefault advertises nvidia.com/gpu.shared instead of nvidia.com/gpu.
	RenameByDefault bool
	// FailRequestsGreaterThanOne rejects pods asking for more than one shared GPU.
	FailRequestsGreaterThanOne bool
}

// ParseReplicas reads --replicas: an integer from 1 to MaxReplicas (exit code 2 otherwise).
func ParseReplicas(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > MaxReplicas {
		return 0, core.UsageErrorf("invalid --replicas %q: give a whole number from 1 to %d (how many pods share each physical GPU, e.g. --replicas 4; 1 or --disable turns time-slicing off)", s, MaxReplicas)
	}
	return n, nil
}

// Resource is the resource the device plugin advertises with c.
func (c SlicingConfig) Resource() string {
	if c.Replicas > 1 && c.RenameByDefault {
		return string(ResourceShared)
	}
	return string(ResourceGPU)
}

// deviceConfig mirrors the device plugin's config file (version v1).
type deviceConfig struct {
	Version string        `json:"version"`
	Flags   deviceFlags   `json:"flags"`
	Sharing deviceSharing `json:"sharing"`
}

type deviceFlags struct {
	MigStrategy      string      `json:"migStrategy"`
	FailOnInitError  bool        `json:"failOnInitError"`
	NvidiaDriverRoot string      `json:"nvidiaDriverRoot"`
	Plugin           pluginFlags `json:"plugin"`
	GFD              gfdFlags    `json:"gfd"`
}

type pluginFlags struct {
	PassDeviceSpecs    bool   `json:"passDeviceSpecs"`
	DeviceListStrategy string `json:"deviceListStrategy"`
	DeviceIDStrategy   string `json:"deviceIDStrategy"`
}

type gfdFlags struct {
	Oneshot       bool   `json:"oneshot"`
	NoTimestamp   bool   `json:"noTimestamp"`
	OutputFile    string `json:"outputFile"`
	SleepInterval string `json:"sleepInterval"`
}

type deviceSharing struct {
	TimeSlicing timeSlicing `json:"timeSlicing"`
}

type timeSlicing struct {
	RenameByDefault            bool             `json:"renameByDefault"`
	FailRequestsGreaterThanOne bool             `json:"failRequestsGreaterThanOne"`
	Resources                  []sharedResource `json:"resources"`
}

type sharedResource struct {
	Name     string `json:"name"`
	Replicas int    `json:"replicas"`
}

// File is the device plugin's config file, as in the runbook's gpu-time-slicing-config.yaml.
func (c SlicingConfig) File() string {
	cfg := deviceConfig{
		Version: "v1",
		Flags: deviceFlags{
			MigStrategy: "none", FailOnInitError: true, NvidiaDriverRoot: "/",
			Plugin: pluginFlags{PassDeviceSpecs: false, DeviceListStrategy: "envvar", DeviceIDStrategy: "uuid"},
			GFD:    gfdFlags{Oneshot: false, NoTimestamp: false, OutputFile: "/etc/kubernetes/node-feature-discovery/features.d/gfd", SleepInterval: "60s"},
		},
		Sharing: deviceSharing{TimeSlicing: timeSlicing{
			RenameByDefault:            c.RenameByDefault,
			FailRequestsGreaterThanOne: c.FailRequestsGreaterThanOne,
			Resources:                  []sharedResource{{Name: string(ResourceGPU), Replicas: c.Replicas}},
		}},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		// Only plain fields above: cannot happen.
		panic(fmt.Sprintf("gpu: marshal device plugin config: %v", err))
	}
	return string(b)
}

// ConfigMap is the ConfigMap namespace/name holding c under ConfigKey.
func (c SlicingConfig) ConfigMap(namespace, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"data":       map[string]any{ConfigKey: c.File()},
	}}
	return u
}

// Hash identifies the device plugin's configuration: the ConfigMap name and content when
// slicing is on, "" when off. It is kept on the device plugin's pod template to restart it only
// when the configuration changed.
func (c SlicingConfig) Hash(configName string) string {
	if c.Replicas <= 1 {
		return ""
	}
	sum := sha256.Sum256([]byte(configName + "\n" + c.File()))
	return hex.EncodeToString(sum[:8])
}
