package kubeflow

import (
	"context"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
)

// TestBuiltImages scans each release's build from the fixtures: every container of every
// Deployment is listed as a pod-spec image, and the images that upstream names only in configs
// (read from the manifests by hand) are found, each as config.
func TestBuiltImages(t *testing.T) {
	configOnly := map[string][]string{
		"26.03": {
			"gcr.io/istio-release/proxyv2:1.29.0", // the injector's values (istiod itself runs 1.28.0)
			"ghcr.io/kubeflow/kfp-driver:2.16.0", "ghcr.io/kubeflow/kfp-launcher:2.16.0",
			"ghcr.io/kubeflow/kfp-frontend:2.16.0", "quay.io/argoproj/argoexec:v3.7.3",
			"ghcr.io/kubeflow/katib/suggestion-hyperopt:v0.19.0", "ghcr.io/kubeflow/katib/file-metrics-collector:v0.19.0",
			"kserve/storage-initializer:v0.16.0", "kserve/agent:v0.16.0", "kserve/art-explainer:latest",
			"ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0",
			"ghcr.io/kubeflow/kubeflow/notebook-servers/rstudio-tidyverse:v1.10.0",
			"quay.io/jetstack/cert-manager-acmesolver:v1.19.4", "tensorflow/tensorflow:2.5.1",
			"filebrowser/filebrowser:v2.25.0", "ghcr.io/containerd/busybox",
			"gcr.io/knative-releases/knative.dev/serving/cmd/queue@sha256:40957d3ced3b185b7a78bbd771be69b0a13137dcbee5ff7f82ae738b56037d9c",
		},
		RunbookVersion: {
			"docker.io/istio/proxyv2:1.11.4", "gcr.io/ml-pipeline/frontend:1.8.1",
			"gcr.io/ml-pipeline/visualization-server:1.8.1", "gcr.io/ml-pipeline/argoexec:v3.2.3-license-compliance",
			"docker.io/kubeflowkatib/suggestion-chocolate:v0.13.0", "kfserving/art-explainer:v0.6.1",
		},
	}
	for v, want := range configOnly {
		t.Run(v, func(t *testing.T) {
			p, _ := ProfileFor(v)
			b, err := Build(context.Background(), p, fixtureSource(t, p), allEdits("x"))
			if err != nil {
				t.Fatal(err)
			}
			var sc images.Scanner
			sc.Scan(Name, b.Objects, false)
			origins := map[string][]images.Origin{}
			for _, im := range sc.List.Images() {
				for _, s := range im.Sources {
					if s.Section != Name {
						t.Errorf("%s: section %q", im.Ref, s.Section)
					}
					origins[im.Ref] = append(origins[im.Ref], s.Origin)
				}
			}
			for _, ref := range want {
				if !slices.Contains(origins[ref], images.Config) {
					t.Errorf("%s: not listed as config (origins %v)", ref, origins[ref])
				}
			}
			deployments := 0
			for _, o := range b.Objects {
				if o.GetKind() != "Deployment" {
					continue
				}
				var d appsv1.Deployment
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &d); err != nil {
					t.Fatal(err)
				}
				deployments++
				for _, c := range append(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers...) {
					if !slices.Contains(origins[c.Image], images.PodSpec) {
						t.Errorf("Deployment %s/%s container %s: %s not listed as a pod-spec image", d.Namespace, d.Name, c.Name, c.Image)
					}
				}
			}
			if deployments < 20 {
				t.Fatalf("only %d Deployments in the build", deployments)
			}
		})
	}
}

// TestBuiltImagesRewritten rewrites each release's build to a mirror: a scan of the rewritten
// objects lists exactly the mirror's names of what it listed before, none outside the mirror.
func TestBuiltImagesRewritten(t *testing.T) {
	r := images.Registry{Registry: "mirror.example:5000/ai"}
	for _, v := range []string{"26.03", RunbookVersion} {
		t.Run(v, func(t *testing.T) {
			p, _ := ProfileFor(v)
			b, err := Build(context.Background(), p, fixtureSource(t, p), allEdits("x"))
			if err != nil {
				t.Fatal(err)
			}
			var before images.Scanner
			before.Scan(Name, b.Objects, false)
			want := map[string]bool{}
			for _, im := range before.List.Images() {
				m, err := r.MapRef(im.Ref)
				if err != nil {
					t.Fatal(err)
				}
				want[m] = true
			}
			if err := r.Rewrite(b.Objects); err != nil {
				t.Fatal(err)
			}
			var after images.Scanner
			after.Scan(Name, b.Objects, false)
			got := after.List.Images()
			for _, im := range got {
				if !want[im.Ref] || !r.Within(im.Ref) {
					t.Errorf("after the rewrite: %s (%+v)", im.Ref, im.Sources[0])
				}
			}
			if len(got) != len(want) || len(got) < 50 {
				t.Errorf("%d images after the rewrite, %d before", len(got), len(want))
			}
		})
	}
}
