package kubeflow

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/output"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
)

// Migration is work a hop does besides its apply because upstream's upgrade notes ask for it.
type Migration struct {
	// Name says what it does; Source where upstream asks for it.
	Name, Source string
	// AfterApply runs it once the hop's apply has converged; otherwise it runs before.
	AfterApply bool
	// Run does it (a dry run reports what it would do) against the hop's build.
	Run func(ctx context.Context, r *section.Run, b *Built) ([]output.Result, error)
}

// rebindMetacontroller: v1.10.2 binds metacontroller to its own ClusterRole instead of
// cluster-admin, and a binding's roleRef cannot change.
var rebindMetacontroller = Migration{
	Name:   "ClusterRoleBinding meta-controller-cluster-role-binding: its roleRef changes (cluster-admin → kubeflow-metacontroller) and a roleRef cannot be changed: deleted, the apply creates it anew",
	Source: "kubeflow/manifests v1.10.2 README, Upgrading: `kubectl delete clusterrolebinding meta-controller-cluster-role-binding`",
	Run:    rebind("meta-controller-cluster-role-binding"),
}

// rebind deletes ClusterRoleBinding name when the cluster's binds another role than the build's
// (the apply then creates it with the new roleRef); nothing when it is absent or the same.
func rebind(name string) func(context.Context, *section.Run, *Built) ([]output.Result, error) {
	return func(ctx context.Context, r *section.Run, b *Built) ([]output.Result, error) {
		c, dry := r.Clients, r.DryRun
		var want string
		for _, o := range b.Objects {
			if o.GetKind() == "ClusterRoleBinding" && o.GetName() == name {
				want, _, _ = unstructured.NestedString(o.Object, "roleRef", "name")
			}
		}
		live, err := c.Client.RbacV1().ClusterRoleBindings().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || err == nil && (want == "" || live.RoleRef.Name == want) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ClusterRoleBinding %s: %w", name, err)
		}
		opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &live.UID}}
		res := output.Result{Kind: "ClusterRoleBinding", Name: name, Action: output.Deleted, Detail: fmt.Sprintf("roleRef %s → %s: created anew by the apply", live.RoleRef.Name, want)}
		if dry.Active() {
			opts.DryRun = []string{metav1.DryRunAll}
			res.DryRun = dry
		}
		if dry == core.DryRunClient {
			return []output.Result{res}, nil
		}
		if err := c.Client.RbacV1().ClusterRoleBindings().Delete(ctx, name, opts); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("delete ClusterRoleBinding %s: %w", name, err)
		}
		return []output.Result{res}, nil
	}
}

// trainingV1Jobs are the resources of Training Operator v1's jobs (group kubeflow.org, v1).
var trainingV1Jobs = []string{"tfjobs", "pytorchjobs", "mpijobs", "paddlejobs", "xgboostjobs", "jaxjobs"}

// trainingV1 are the objects of Training Operator v1 that v1.11.0 drops (the build diff of
// v1.10.2 and v1.11.0), by kind and namespace/name: its jobs' CRDs and these.
var trainingV1 = func() map[string]bool {
	objs := map[string]bool{
		"Deployment/kubeflow/training-operator": true, "Service/kubeflow/training-operator": true,
		"ServiceAccount/kubeflow/training-operator": true, "Secret/kubeflow/training-operator-webhook-cert": true,
		"ClusterRole//training-operator": true, "ClusterRoleBinding//training-operator": true,
		"ClusterRole//kubeflow-training-admin": true, "ClusterRole//kubeflow-training-edit": true, "ClusterRole//kubeflow-training-view": true,
		"ValidatingWebhookConfiguration//validator.training-operator.kubeflow.org": true,
	}
	for _, r := range trainingV1Jobs {
		objs["CustomResourceDefinition//"+r+".kubeflow.org"] = true
	}
	return objs
}()

// keeper is the kubeflow section's kube.Applier.KeepMember: what a prune leaves though the build
// dropped it, because it holds data or serves what does. It reads the cluster only for members
// a prune would delete, once per run.
type keeper struct {
	c          *kube.Clients
	minioClaim *bool
	v1Jobs     *string
}

// keep: every PersistentVolumeClaim (its data); the minio Deployment, and the AuthorizationPolicy
// that lets clients past Istio's global deny to it, while its claim minio-pvc is there (the copy
// to SeaweedFS reads from it, then deletes both); Training Operator v1 while v1 jobs exist.
func (k *keeper) keep(ctx context.Context, kind, ns, name string) (string, bool, error) {
	switch ref := kind + "/" + ns + "/" + name; {
	case kind == "PersistentVolumeClaim":
		what := claimHolds(kind, ns, name)
		if what == "" {
			what = "data"
		}
		return fmt.Sprintf("holds %s, which this release no longer uses: copy it, then delete the claim (or `kubeflow uninstall --delete-data`)", what), true, nil
	case ref == "Deployment/kubeflow/minio" || ref == "AuthorizationPolicy/kubeflow/"+minioPolicy:
		if k.minioClaim == nil {
			_, err := k.c.Client.CoreV1().PersistentVolumeClaims("kubeflow").Get(ctx, minioData.Name, metav1.GetOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return "", false, err
			}
			there := err == nil
			k.minioClaim = &there
		}
		return "serves the kept claim kubeflow/minio-pvc until Job kubeflow/" + CopyJobName + " has copied its artifacts to SeaweedFS, which then deletes it", *k.minioClaim, nil
	case trainingV1[ref]:
		if k.v1Jobs == nil {
			jobs, err := k.countV1Jobs(ctx)
			if err != nil {
				return "", false, err
			}
			k.v1Jobs = &jobs
		}
		return "Training Operator v1 still has jobs (" + *k.v1Jobs + "): kept until they are deleted", *k.v1Jobs != "", nil
	}
	return "", false, nil
}

// countV1Jobs says which Training Operator v1 jobs exist ("" for none), e.g. "2 PyTorchJob".
func (k *keeper) countV1Jobs(ctx context.Context) (string, error) {
	var found []string
	for _, r := range trainingV1Jobs {
		l, err := k.c.Dynamic.Resource(schema.GroupVersionResource{Group: "kubeflow.org", Version: "v1", Resource: r}).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue // the CRD is gone: so are its jobs
		}
		if err != nil {
			return "", fmt.Errorf("list %s.kubeflow.org: %w", r, err)
		}
		if n := len(l.Items); n > 0 {
			found = append(found, fmt.Sprintf("%d %s", n, r))
		}
	}
	return strings.Join(found, ", "), nil
}
