package profile

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/checks"
)

// Checks returns the checks of section "profiles" in ID order. They read one LIST each of
// Profiles, namespaces and PodDefaults (all namespaces).
func Checks() []checks.Check {
	return []checks.Check{
		{ID: "PROFILES-001", Section: Name, Title: "Every Profile's namespace exists", Severity: checks.Error,
			Resources: []schema.GroupVersionResource{ProfilesGVR, NamespacesGVR}, Run: namespacesExist},
		{ID: "PROFILES-002", Section: Name, Title: "PodDefault access-ml-pipeline in every profile namespace, as the runbook's", Severity: checks.Error,
			Resources: []schema.GroupVersionResource{ProfilesGVR, NamespacesGVR, PodDefaultsGVR}, Run: podDefaults},
		{ID: "PROFILES-003", Section: Name, Title: "Profile namespaces carry the admission webhook's label", Severity: checks.Warn,
			Resources: []schema.GroupVersionResource{ProfilesGVR, NamespacesGVR}, Run: webhookLabels},
	}
}

// snapshotInventory reads the Profiles and namespaces of the snapshot; a result explains why not.
func snapshotInventory(s *checks.Snapshot) (*Inventory, []checks.Result) {
	profiles, err := s.List(ProfilesGVR)
	if checks.IsNotServed(err) {
		return nil, []checks.Result{checks.Fail("Profiles (profiles.kubeflow.org) are not served: "+notInstalled, "kubectl flexigrobots kubeflow")}
	}
	if err != nil {
		return nil, []checks.Result{checks.CannotEvaluate(err, "the caller needs list on profiles.kubeflow.org")}
	}
	nss, err := checks.ListAs[corev1.Namespace](s, NamespacesGVR)
	if err != nil {
		return nil, []checks.Result{checks.CannotEvaluate(err, "the caller needs list on namespaces")}
	}
	inv := &Inventory{Profiles: map[string]bool{}, Namespaces: map[string]*metav1.PartialObjectMetadata{}}
	for _, p := range profiles {
		inv.Profiles[p.GetName()] = true
	}
	for i := range nss {
		inv.Namespaces[nss[i].Name] = partialMeta(&nss[i])
	}
	return inv, nil
}

func namespacesExist(s *checks.Snapshot) []checks.Result {
	inv, bad := snapshotInventory(s)
	if bad != nil {
		return bad
	}
	targets, pending := inv.AllProfiles()
	if len(inv.Profiles) == 0 {
		return []checks.Result{checks.Note("no Profiles yet", "users get one on first login (registration flow), or: kubectl apply a Profile")}
	}
	if len(pending) > 0 {
		return []checks.Result{checks.Fail(fmt.Sprintf("%d of %d Profiles have no namespace: %s", len(pending), len(inv.Profiles), list(pending)),
			"Kubeflow's profile controller creates them: kubectl -n kubeflow logs deploy/profiles-deployment; kubectl get profile NAME -o yaml (status.conditions)")}
	}
	return []checks.Result{checks.Pass("%d Profiles, each with its namespace", len(targets))}
}

func podDefaults(s *checks.Snapshot) []checks.Result {
	inv, bad := snapshotInventory(s)
	if bad != nil {
		return bad
	}
	pds, err := s.List(PodDefaultsGVR)
	if checks.IsNotServed(err) {
		return []checks.Result{checks.Fail("PodDefaults (poddefaults.kubeflow.org) are not served: "+notInstalled, "kubectl flexigrobots kubeflow")}
	}
	if err != nil {
		return []checks.Result{checks.CannotEvaluate(err, "the caller needs list on poddefaults.kubeflow.org in all namespaces")}
	}
	live := map[string]*unstructured.Unstructured{}
	for i := range pds {
		if pds[i].GetName() == PodDefaultName {
			live[pds[i].GetNamespace()] = &pds[i]
		}
	}
	targets, _ := inv.AllProfiles()
	if len(targets) == 0 {
		return []checks.Result{checks.Note("no profile namespaces yet", "")}
	}
	var missing []string
	var rs []checks.Result
	for _, t := range targets {
		l := live[t.Namespace]
		if l == nil {
			missing = append(missing, t.Namespace)
			continue
		}
		if d := SpecDifference(l); d != "" {
			rs = append(rs, checks.Fail(fmt.Sprintf("PodDefault %s/%s differs from the runbook's: %s", t.Namespace, PodDefaultName, d),
				fmt.Sprintf("kubectl flexigrobots profile poddefault %s", t.Namespace)))
		}
	}
	if len(missing) > 0 {
		rs = append(rs, checks.Fail(fmt.Sprintf("%d of %d profile namespaces have no PodDefault %s: %s", len(missing), len(targets), PodDefaultName, list(missing)),
			"kubectl flexigrobots profile poddefault --all-profiles (keep it covering new users with --watch)"))
	}
	if len(rs) == 0 {
		return []checks.Result{checks.Pass("%d profile namespaces have PodDefault %s as the runbook's", len(targets), PodDefaultName)}
	}
	return rs
}

func webhookLabels(s *checks.Snapshot) []checks.Result {
	inv, bad := snapshotInventory(s)
	if bad != nil {
		return bad
	}
	targets, _ := inv.AllProfiles()
	var unlabelled []string
	for _, t := range targets {
		if !t.WebhookLabel {
			unlabelled = append(unlabelled, t.Namespace)
		}
	}
	if len(unlabelled) > 0 {
		return []checks.Result{checks.Fail(fmt.Sprintf("%d profile namespaces lack %s=%s, so the admission webhook applies no PodDefault to their pods: %s", len(unlabelled), WebhookLabel, WebhookLabelValue, list(unlabelled)),
			fmt.Sprintf("kubectl label namespace NAME %s=%s (the profile controller sets it on namespaces it creates)", WebhookLabel, WebhookLabelValue))}
	}
	return []checks.Result{checks.Pass("%d profile namespaces carry %s=%s", len(targets), WebhookLabel, WebhookLabelValue)}
}

// list names at most 10 items, sorted.
func list(names []string) string {
	sort.Strings(names)
	if len(names) > 10 {
		return strings.Join(names[:10], ", ") + fmt.Sprintf(" ... (%d in all)", len(names))
	}
	return strings.Join(names, ", ")
}

func partialMeta(ns *corev1.Namespace) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: ns.ObjectMeta}
}
