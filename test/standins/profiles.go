// ProfileController imitates, on the test bed, the namespace part of Kubeflow's profile
// controller (kubeflow/kubeflow components/profile-controller, the Deployment
// kubeflow/profiles-deployment of both Kubeflow builds), whose pod kwok only fakes: when a Profile
// (kubeflow.org/v1, cluster-scoped) appears and no namespace of its name exists, it creates that
// namespace as the real controller does:
//   - annotation owner: <spec.owner.name>;
//   - labels istio-injection: enabled, katib.kubeflow.org/metrics-collector-injection: enabled,
//     serving.kubeflow.org/inferenceservice: enabled, pipelines.kubeflow.org/enabled: "true",
//     app.kubernetes.io/part-of: kubeflow-profile (the label Kubeflow's PodDefault webhook
//     selects), and with PodSecurity pod-security.kubernetes.io/enforce: baseline (v1.10.2's pss
//     overlay);
//   - a controller ownerReference to the Profile, so the garbage collector (kube-controller-manager
//     runs on the test bed) deletes the namespace with its Profile.
//
// A namespace that already exists is adopted as the real controller does when its owner
// annotation names the Profile's owner: labels are added, no ownerReference is set; otherwise it
// is left alone (the real controller reports the conflict in the Profile's status, which this
// stand-in does not write). The rest of the real controller (RoleBindings, ServiceAccounts, Istio
// AuthorizationPolicy, ResourceQuota, status) has no effect the tests look at and is not imitated.
package standins

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

var kubeflowProfilesGVR = schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: "profiles"}

// ProfileController is the stand-in; see the file comment.
type ProfileController struct {
	// Interval between passes (default 200ms).
	Interval time.Duration
	// PodSecurity adds pod-security.kubernetes.io/enforce: baseline (Kubeflow v1.10.2).
	PodSecurity bool
	// Only, when set, limits the stand-in to the Profiles it accepts (tests that share a test bed
	// handle only their own Profiles); nil handles every Profile, as the real controller does.
	Only func(profile string) bool
}

// NewProfileController returns the stand-in for every Profile.
func NewProfileController() *ProfileController {
	return &ProfileController{Interval: 200 * time.Millisecond}
}

// Name says what it imitates.
func (p *ProfileController) Name() string {
	return "Kubeflow profile controller (a namespace per Profile, with owner annotation and labels)"
}

// Run reconciles until ctx ends; errors of one pass (no Profile CRD yet, API server restarting)
// are retried on the next.
func (p *ProfileController) Run(ctx context.Context, c *testbed.Cluster) error {
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	interval := p.Interval
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		_ = p.reconcile(ctx, c.Client, dyn)
	}
}

// ProfileNamespaceLabels are the labels the real controller puts on a profile namespace.
func (p *ProfileController) ProfileNamespaceLabels() map[string]string {
	labels := map[string]string{
		"istio-injection": "enabled",
		"katib.kubeflow.org/metrics-collector-injection": "enabled",
		"serving.kubeflow.org/inferenceservice":          "enabled",
		"pipelines.kubeflow.org/enabled":                 "true",
		"app.kubernetes.io/part-of":                      "kubeflow-profile",
	}
	if p.PodSecurity {
		labels["pod-security.kubernetes.io/enforce"] = "baseline"
	}
	return labels
}

func (p *ProfileController) reconcile(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface) error {
	list, err := dyn.Resource(kubeflowProfilesGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range list.Items {
		prof := &list.Items[i]
		if prof.GetDeletionTimestamp() != nil || (p.Only != nil && !p.Only(prof.GetName())) {
			continue
		}
		owner, _, _ := unstructured.NestedString(prof.Object, "spec", "owner", "name")
		ns, err := cs.CoreV1().Namespaces().Get(ctx, prof.GetName(), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			controller := true
			_, _ = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
				Name:        prof.GetName(),
				Annotations: map[string]string{"owner": owner},
				Labels:      p.ProfileNamespaceLabels(),
				OwnerReferences: []metav1.OwnerReference{{
					APIVersion: "kubeflow.org/v1", Kind: "Profile", Name: prof.GetName(), UID: prof.GetUID(),
					Controller: &controller, BlockOwnerDeletion: &controller,
				}},
			}}, metav1.CreateOptions{FieldManager: "profile-controller"})
			continue
		}
		if err != nil || ns.Annotations["owner"] != owner || ns.DeletionTimestamp != nil {
			continue
		}
		changed := false
		for k, v := range p.ProfileNamespaceLabels() {
			if ns.Labels[k] != v {
				if ns.Labels == nil {
					ns.Labels = map[string]string{}
				}
				ns.Labels[k], changed = v, true
			}
		}
		if changed {
			_, _ = cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{FieldManager: "profile-controller"})
		}
	}
	return nil
}
