package gpu

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	gpucomp "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/gpu"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

func TestPrintNodes(t *testing.T) {
	three := int64(3)
	nodes := []gpucomp.NodeGPU{{Node: "gpu-worker", Product: "Tesla-T4", Physical: 1, Replicas: 4, Resource: "nvidia.com/gpu", Allocatable: 4}}
	rep := &output.Report{Results: []output.Result{{Kind: "ConfigMap", Namespace: "gpu-operator", Name: "time-slicing-config", Action: output.Unchanged}}}

	var b bytes.Buffer
	if err := print(&b, &b, output.Table, rep, nodes); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "configmap/time-slicing-config unchanged") || lines[1] != "" {
		t.Fatalf("table output:\n%s", b.String())
	}
	if got := strings.Fields(lines[2]); strings.Join(got, " ") != "NODE PRODUCT PHYSICAL REPLICAS ALLOCATABLE RESOURCE" {
		t.Fatalf("header %v", got)
	}
	if got := strings.Fields(lines[3]); strings.Join(got, " ") != "gpu-worker Tesla-T4 1 4 4 nvidia.com/gpu" {
		t.Fatalf("row %v", got)
	}

	nodes[0].Requested = &three
	b.Reset()
	if err := print(&b, &b, output.Table, nil, nodes); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "REQUESTED") || strings.Fields(strings.Split(b.String(), "\n")[1])[6] != "3" {
		t.Fatalf("status table:\n%s", b.String())
	}

	b.Reset()
	if err := print(&b, &b, output.JSON, rep, nil); err != nil {
		t.Fatal(err)
	}
	var got NodesReport
	if err := json.Unmarshal(b.Bytes(), &got); err != nil || got.Nodes == nil || len(got.Results) != 1 {
		t.Fatalf("json %s: %v", b.String(), err)
	}
}
