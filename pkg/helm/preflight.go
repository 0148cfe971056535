package helm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/versions"
)

// apiCheck is the preflight of a chart against the server's APIs: kinds the server does not
// serve, CRDs with CEL validation rules on a server older than 1.25 (kube.APIProblems). A problem
// is a usage error (exit 2) naming the chart, before any change: the crds/ objects are checked
// before they are applied, the templates through helm's post-render step, which runs after
// rendering and before helm creates anything (namespace and release record included).
type apiCheck struct {
	c     *Client
	chart string
	// crds are the chart's crds/ objects: they define kinds the templates may use.
	crds []*unstructured.Unstructured
	// images rewrites the templates' image references when enabled.
	images images.Registry
	err    error
}

// check returns the usage error for objs, or nil.
func (a *apiCheck) check(objs []*unstructured.Unstructured) error {
	dc, err := a.c.getter.ToDiscoveryClient()
	if err != nil {
		return fmt.Errorf("helm: discovery: %w", err)
	}
	s, err := versions.Read(dc)
	if err != nil {
		return err
	}
	problems := kube.APIProblems(dc, s.Minor, append(append([]*unstructured.Unstructured{}, a.crds...), objs...))
	if len(problems) == 0 {
		return nil
	}
	return core.UsageErrorf("chart %s cannot be installed on %s, nothing was changed:\n  - %s\n(give a chart version that fits: `kubectl flexigrobots releases` lists them)", a.chart, s, strings.Join(problems, "\n  - "))
}

// Run is helm's post-render step: it checks the rendered templates and passes them on, with
// their images rewritten to the registry when one is set (unchanged otherwise).
func (a *apiCheck) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	objs, err := kube.DecodeManifests(rendered.Bytes())
	if err != nil {
		return rendered, nil // helm reports unparsable output itself
	}
	if a.err = a.check(objs); a.err != nil {
		return nil, a.err
	}
	if !a.images.Enabled() {
		return rendered, nil
	}
	if a.err = a.images.Rewrite(objs); a.err != nil {
		return nil, fmt.Errorf("chart %s: %w", a.chart, a.err)
	}
	out := new(bytes.Buffer)
	for _, o := range objs {
		doc, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(doc)
	}
	return out, nil
}

// ImagesLabel is the release label that holds a digest of the image registry the release's
// templates were rewritten to (see Spec.Images); absent when they were not.
const ImagesLabel = "flexigrobots.io/images"

// imagesLabelValue is ImagesLabel's value for r ("" when r is not enabled): a digest, as a
// registry's name is not a label value.
func imagesLabelValue(r images.Registry) string {
	if !r.Enabled() {
		return ""
	}
	sum := sha256.Sum256([]byte(r.Key()))
	return hex.EncodeToString(sum[:])[:20]
}
