package kubeflow

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

func TestUpgradePath(t *testing.T) {
	on := func(minor int) versions.Server {
		return versions.Server{Major: 1, Minor: minor, Git: fmt.Sprintf("v1.%d.0", minor)}
	}
	recorded := func(v string) Installation {
		return Installation{Version: v, Recorded: true, How: "the apply record names it"}
	}
	for _, tc := range []struct {
		name      string
		server    versions.Server
		installed Installation
		target    string
		hops      string   // pathString of the hops ("" for none)
		refused   []string // a usage error holding these
		migrates  string   // a hop's migration, by name
	}{
		{name: "nothing installed", server: on(37), target: "26.03"},
		{name: "the same release, spelled without v", server: on(37), installed: recorded("v1.10.2"), target: "1.10.2"},
		{name: "two hops", server: on(37), installed: recorded("v1.10.2"), target: "26.03", hops: "v1.10.2 → v1.11.0 → 26.03"},
		{name: "three hops, the metacontroller binding rebound on the first", server: on(37), installed: recorded("v1.9.1"), target: "26.03",
			hops: "v1.9.1 → v1.10.2 → v1.11.0 → 26.03", migrates: "meta-controller-cluster-role-binding"},
		{name: "a downgrade", server: on(37), installed: recorded("26.03"), target: "v1.10.2", refused: []string{"26.03 is installed", "v1.10.2 is older", "no downgrade path", "--version 26.03"}},
		{name: "the runbook's v1.5.0", server: on(21), installed: Installation{Version: "v1.5.0", How: "Deployment kubeflow/ml-pipeline runs Kubeflow Pipelines 1.8.1"}, target: "v1.10.2",
			refused: []string{"v1.5.0 is installed (Deployment kubeflow/ml-pipeline runs Kubeflow Pipelines 1.8.1)", "cannot be upgraded in place", "Kubernetes 1.22 removed", "new cluster"}},
		{name: "an unknown release", server: on(37), installed: Installation{Unknown: "2.0.5", How: "Deployment kubeflow/ml-pipeline runs Kubeflow Pipelines 2.0.5"}, target: "26.03",
			refused: []string{"unknown Kubeflow release", "2.0.5", "by hand"}},
		{name: "a hop that cannot install on the server", server: on(32), installed: recorded("v1.10.2"), target: "26.03",
			refused: []string{"passes through 26.03", "not on this cluster's v1.32.0", "upgrade Kubernetes first"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hops, err := UpgradePath(tc.server, tc.installed, tc.target)
			if tc.refused != nil {
				if !core.IsUsageError(err) {
					t.Fatalf("want a usage error, got %v (hops %s)", err, pathString(hops))
				}
				for _, want := range tc.refused {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := pathString(hops); got != tc.hops {
				t.Fatalf("hops %q, want %q", got, tc.hops)
			}
			if tc.migrates != "" && (len(hops) == 0 || len(hops[0].Migrations) != 1 || !strings.Contains(hops[0].Migrations[0].Name, tc.migrates)) {
				t.Errorf("the first hop does not migrate %s: %+v", tc.migrates, hops)
			}
			for _, h := range hops {
				if h.To == "v1.11.0" && !strings.Contains(strings.Join(h.Notes, " "), "minio-pvc") {
					t.Errorf("the hop to v1.11.0 does not say the MinIO claim stays: %v", h.Notes)
				}
			}
		})
	}
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"ghcr.io/kubeflow/kfp-api-server:2.5.0":                 "2.5.0",
		"registry.local:5000/kfp-api-server:2.16.0":             "2.16.0",
		"registry.local:5000/kfp-api-server":                    "",
		"ghcr.io/kubeflow/kfp-api-server:2.5.0@sha256:0123abcd": "2.5.0",
		"ghcr.io/kubeflow/kfp-api-server@sha256:0123abcd":       "",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}
