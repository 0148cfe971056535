package cluster

// The check each section that runs workloads (storage, lb, kubeflow, gpu) has for its
// imageRegistry: the registry its last apply ran with is read from the platform record
// (section.PlatformRecord, the section's block), and every pod of the section's namespaces must
// name its images in it. The sections share this one implementation; each gives its ID and how
// to find its namespaces.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/images"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Resource types the image registry checks list (the platform record is a ConfigMap; the
// sections' namespaces are found by theirs, e.g. kubeflow's profile namespaces by labels).
var (
	PodsGVR       = corev1.SchemeGroupVersion.WithResource("pods")
	ConfigMapsGVR = corev1.SchemeGroupVersion.WithResource("configmaps")
	NamespacesGVR = corev1.SchemeGroupVersion.WithResource("namespaces")
)

// ImageRegistryTitle is the title of every section's image registry check.
const ImageRegistryTitle = "Pods pull from the image registry"

// SectionNamespaces returns the namespaces whose pods are section's, given the section's
// recorded block (the YAML its last apply ran with; see BlockString). It reads only the
// snapshot, and only the resource types given to ImageRegistryCheck besides pods and
// configmaps.
type SectionNamespaces func(s *checks.Snapshot, block []byte) ([]string, error)

// ImageRegistryCheck is section's check, with the given ID, that its pods pull from the
// imageRegistry its last apply ran with (Error severity). With no imageRegistry recorded it
// passes (the images come from their upstream registries, as the section was told). Otherwise
// every pod in the namespaces returned by namespaces must name each image of its containers,
// init containers and ephemeral containers (the pod spec, not what the kubelet resolved) in the
// registry (images.Registry.Within: its host and, with a prefix, its path); pods being deleted
// and pods that have finished (Succeeded, Failed) pull nothing any more and are left out. The
// check lists pods and configmaps, and resources (what namespaces reads).
func ImageRegistryCheck(sectionName, id string, namespaces SectionNamespaces, resources ...schema.GroupVersionResource) checks.Check {
	gvrs := []schema.GroupVersionResource{ConfigMapsGVR, PodsGVR}
	for _, g := range resources {
		if !slices.Contains(gvrs, g) {
			gvrs = append(gvrs, g)
		}
	}
	return checks.Check{ID: id, Section: sectionName, Title: ImageRegistryTitle, Severity: checks.Error, Resources: gvrs,
		Run: func(s *checks.Snapshot) []checks.Result { return imageRegistry(s, sectionName, namespaces, gvrs) }}
}

// RecordedBlock returns section name's block of the platform record (the ConfigMap
// section.PlatformRecord in kube.RecordNamespace) from the snapshot's configmaps; ok is false
// when there is no record or no block of the section in it.
func RecordedBlock(s *checks.Snapshot, name string) (block []byte, ok bool, err error) {
	cm, err := RecordConfigMap(s, section.PlatformRecord)
	if err != nil || cm == nil {
		return nil, false, err
	}
	b, ok := cm.Data[name]
	return []byte(b), ok && strings.TrimSpace(b) != "", nil
}

// RecordConfigMap returns the ConfigMap called name in kube.RecordNamespace from the snapshot's
// configmaps (nil when there is none): the platform record, or a section's apply record
// (kube.RecordName).
func RecordConfigMap(s *checks.Snapshot, name string) (*corev1.ConfigMap, error) {
	cms, err := checks.ListAs[corev1.ConfigMap](s, ConfigMapsGVR)
	if err != nil {
		return nil, err
	}
	for i := range cms {
		if cms[i].Namespace == kube.RecordNamespace && cms[i].Name == name {
			return &cms[i], nil
		}
	}
	return nil, nil
}

// BlockString is the string at path in a recorded block ("" when it is not set), e.g.
// BlockString(block, "operator", "releaseNamespace").
func BlockString(block []byte, path ...string) (string, error) {
	var m map[string]any
	if err := yaml.Unmarshal(block, &m); err != nil {
		return "", fmt.Errorf("the recorded block does not parse: %w", err)
	}
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return "", nil
		}
		v = mm[k]
	}
	str, _ := v.(string)
	return str, nil
}

// recordRef names the platform record in messages.
var recordRef = kube.RecordNamespace + "/" + section.PlatformRecord

func imageRegistry(s *checks.Snapshot, name string, namespaces SectionNamespaces, gvrs []schema.GroupVersionResource) []checks.Result {
	var needs []string
	for _, g := range gvrs {
		res := g.Resource
		if g.Group != "" {
			res += "." + g.Group
		}
		needs = append(needs, res)
	}
	cannot := func(err error) []checks.Result {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on "+strings.Join(needs, ", ")+" in all namespaces (see CLUSTER-005)")}
	}
	block, ok, err := RecordedBlock(s, name)
	if err != nil {
		return cannot(err)
	}
	var reg images.Registry
	if ok {
		if err := yaml.Unmarshal(block, &reg); err != nil {
			return []checks.Result{checks.CannotEvaluate(fmt.Errorf("section %s's block in ConfigMap %s does not parse: %w", name, recordRef, err),
				"re-apply the section (`kubectl flexigrobots apply -f plugins.yaml --only "+name+"`): it records its block anew")}
		}
	}
	if reg.Registry == "" {
		return []checks.Result{checks.Pass("no imageRegistry set: images are pulled from their upstream registries")}
	}
	if ps := reg.Validate(); len(ps) > 0 {
		return []checks.Result{checks.CannotEvaluate(fmt.Errorf("section %s's recorded imageRegistry: %s", name, core.Render(ps[0].Message, func(f string) string { return f })),
			"re-apply the section with a valid imageRegistry (REGISTRY[/PREFIX])")}
	}
	nss, err := namespaces(s, block)
	if err != nil {
		return cannot(err)
	}
	nss = sortedSet(nss)
	pods, err := checks.ListAs[corev1.Pod](s, PodsGVR)
	if err != nil {
		return cannot(err)
	}
	inSection := map[string]bool{}
	for _, ns := range nss {
		inSection[ns] = true
	}
	counted := 0
	outside := map[string][]string{} // namespace -> "ns/pod: image, image"
	total := map[string]int{}
	for i := range pods {
		p := &pods[i]
		if !inSection[p.Namespace] || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		counted++
		total[p.Namespace]++
		if bad := imagesOutside(p, reg); len(bad) > 0 {
			outside[p.Namespace] = append(outside[p.Namespace], p.Namespace+"/"+p.Name+": "+strings.Join(bad, ", "))
		}
	}
	where := strings.Join(nss, ", ")
	if len(outside) == 0 {
		if counted == 0 {
			return []checks.Result{checks.Pass("no pods in %s: none pulls from outside %s", orNone(where), reg.Registry)}
		}
		verb := "pull"
		if counted == 1 {
			verb = "pulls"
		}
		return []checks.Result{checks.Pass("%s in %s %s from %s", output.Count(counted, "pod"), where, verb, reg.Registry)}
	}
	fix := fmt.Sprintf("mirror the images into the registry (`kubectl flexigrobots images mirror -f plugins.yaml --to %s`) and re-apply (`kubectl flexigrobots apply -f plugins.yaml --only %s`): the section's pods are rewritten to it; a pod made by hand in a platform namespace should name its images in %s too",
		reg.Registry, name, reg.Registry)
	var rs []checks.Result
	for _, ns := range nss {
		bad := outside[ns]
		if len(bad) == 0 {
			continue
		}
		sort.Strings(bad)
		verb := "pull"
		if len(bad) == 1 {
			verb = "pulls"
		}
		msg := fmt.Sprintf("namespace %s: %s %s from outside %s:\n%s", ns, output.CountOf(len(bad), total[ns], "pod"), verb, reg.Registry, strings.Join(bad, "\n"))
		rs = append(rs, checks.Fail(msg, fix))
	}
	return rs
}

// imagesOutside are the distinct images of p's containers, init containers and ephemeral
// containers that reg does not hold, in the pod spec's order.
func imagesOutside(p *corev1.Pod, reg images.Registry) []string {
	var all []string
	for _, c := range p.Spec.InitContainers {
		all = append(all, c.Image)
	}
	for _, c := range p.Spec.Containers {
		all = append(all, c.Image)
	}
	for _, c := range p.Spec.EphemeralContainers {
		all = append(all, c.Image)
	}
	var out []string
	for _, img := range all {
		if img != "" && !reg.Within(img) && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}

// sortedSet is the distinct non-empty values of xs, sorted.
func sortedSet(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x = strings.TrimSpace(x); x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(no namespace found)"
	}
	return s
}
