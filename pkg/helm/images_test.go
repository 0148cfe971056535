package helm

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
)

// TestEnsureImageRegistry: a release installed with an image registry runs its images from it
// (with the pull secret named), the same registry again is unchanged, another registry or none
// upgrades, and the label follows.
func TestEnsureImageRegistry(t *testing.T) {
	h := startHelmBed(t)
	const ns = "nfs-mirrored"
	mirror := images.Registry{Registry: "127.0.0.1:5000/ai", PullSecrets: []string{"mirror-pull"}}
	image := func() (string, []string) {
		t.Helper()
		d, err := h.bed.Client.AppsV1().Deployments(ns).Get(context.Background(), nfsChart, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var secrets []string
		for _, s := range d.Spec.Template.Spec.ImagePullSecrets {
			secrets = append(secrets, s.Name)
		}
		return d.Spec.Template.Spec.Containers[0].Image, secrets
	}

	s := h.nfsSpec(ns)
	s.Images = mirror
	_, rel := h.ensure(s, output.Installed)
	if got, secrets := image(); got != "127.0.0.1:5000/ai/sig-storage/nfs-subdir-external-provisioner:v4.0.2" || len(secrets) != 1 || secrets[0] != "mirror-pull" {
		t.Fatalf("installed with a registry: image %s, pull secrets %v", got, secrets)
	}
	if rel.Labels[ImagesLabel] == "" {
		t.Fatalf("release labels %v: no %s", rel.Labels, ImagesLabel)
	}

	before := h.snapshot(ns)
	h.ensure(s, output.Unchanged)
	h.sameSnapshot(before, ns)

	// Reusing the release's values (gpu slicing) without the registry would re-render the
	// templates from upstream: refused, nothing changed.
	reuse := h.nfsSpec(ns, "nfs.path=/elsewhere")
	reuse.ReuseValues = true
	if _, _, err := h.client.Ensure(context.Background(), reuse); !core.IsUsageError(err) || !strings.Contains(err.Error(), "--image-registry") {
		t.Fatalf("reuse values without the registry: %v, want a usage error naming --image-registry", err)
	}
	h.sameSnapshot(before, ns)
	reuse.Images = mirror
	h.ensure(reuse, output.Upgraded)
	if got, _ := image(); got != "127.0.0.1:5000/ai/sig-storage/nfs-subdir-external-provisioner:v4.0.2" {
		t.Fatalf("reuse values with the registry: image %s", got)
	}

	s.Images = images.Registry{Registry: "127.0.0.1:5001"}
	h.ensure(s, output.Upgraded)
	if got, secrets := image(); got != "127.0.0.1:5001/sig-storage/nfs-subdir-external-provisioner:v4.0.2" || len(secrets) != 0 {
		t.Fatalf("another registry: image %s, pull secrets %v", got, secrets)
	}

	s.Images = images.Registry{}
	_, rel = h.ensure(s, output.Upgraded)
	if got, _ := image(); got != "registry.k8s.io/sig-storage/nfs-subdir-external-provisioner:v4.0.2" {
		t.Fatalf("no registry: image %s", got)
	}
	if _, has := rel.Labels[ImagesLabel]; has {
		t.Fatalf("no registry, yet the release is labelled %v", rel.Labels)
	}
	h.ensure(s, output.Unchanged)
}
