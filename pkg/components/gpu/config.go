package gpu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Resource is the resource the device plugin advertises with c.
func (c SlicingSpec) Resource() string {
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
func (c SlicingSpec) File() string {
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

// ConfigMap is the ConfigMap namespace/c.ConfigName holding c's config file under ConfigKey.
func (c SlicingSpec) ConfigMap(namespace string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "ConfigMap",
		"metadata":   map[string]any{"name": c.ConfigName, "namespace": namespace},
		"data":       map[string]any{ConfigKey: c.File()},
	}}
	return u
}

// Hash identifies the device plugin's configuration: the ConfigMap name and content when
// slicing is on, "" when off. It is kept on the device plugin's pod template to restart it only
// when the configuration changed.
func (c SlicingSpec) Hash() string {
	if c.Replicas <= 1 {
		return ""
	}
	sum := sha256.Sum256([]byte(c.ConfigName + "\n" + c.File()))
	return hex.EncodeToString(sum[:8])
}
