package kubeflow

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// copyLabels mark the copy's objects as the plugin's.
var copyLabels = map[string]string{"app.kubernetes.io/managed-by": kube.FieldManager, "app.kubernetes.io/component": "artifact-copy"}

// copyJob is the Job that copies every bucket from minio (through CopySourceService) to
// SeaweedFS's S3 port, both with the keys of Secret kubeflow/mlpipeline-minio-artifact (minio
// reads them from its env, SeaweedFS configures its admin user from them). `rclone copy` adds
// and updates, never deletes, so a re-run after a failure copies only what is missing. Its pod
// has no Istio sidecar, which would keep the Job from ending: both stores accept plain-text
// clients (no PeerAuthentication in the builds, their AuthorizationPolicies allow `{}`, the
// same-namespace NetworkPolicies admit the namespace's pods).
func copyJob() *batchv1.Job {
	key := func(k string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "mlpipeline-minio-artifact"}, Key: k}}
	}
	var env []corev1.EnvVar
	for _, store := range []struct{ remote, provider, endpoint string }{
		{"SOURCE", "Minio", "http://" + CopySourceService + ".kubeflow.svc:9000"},
		{"TARGET", "SeaweedFS", "http://seaweedfs.kubeflow.svc:8333"},
	} {
		p := "RCLONE_CONFIG_" + store.remote + "_"
		env = append(env,
			corev1.EnvVar{Name: p + "TYPE", Value: "s3"},
			corev1.EnvVar{Name: p + "PROVIDER", Value: store.provider},
			corev1.EnvVar{Name: p + "ENDPOINT", Value: store.endpoint},
			corev1.EnvVar{Name: p + "ACCESS_KEY_ID", ValueFrom: key("accesskey")},
			corev1.EnvVar{Name: p + "SECRET_ACCESS_KEY", ValueFrom: key("secretkey")})
	}
	env = append(env, corev1.EnvVar{Name: "HOME", Value: "/tmp"})
	podLabels := map[string]string{"sidecar.istio.io/inject": "false"}
	for k, v := range copyLabels {
		podLabels[k] = v
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: CopyJobName, Namespace: "kubeflow", Labels: copyLabels},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65534), RunAsGroup: ptr.To[int64](65534),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name:  "copy",
						Image: CopyImage,
						Args:  []string{"copy", "SOURCE:", "TARGET:", "--stats-one-line", "--stats=30s", "-v"},
						Env:   env,
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
					}},
					Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				},
			},
		},
	}
}

// copySource is the Service to the minio pods (sel: the minio Deployment's selector) on minio's
// S3 port.
func copySource(sel map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: CopySourceService, Namespace: "kubeflow", Labels: copyLabels},
		Spec: corev1.ServiceSpec{Selector: sel,
			Ports: []corev1.ServicePort{{Name: "http-s3", Port: 9000, TargetPort: intstr.FromInt32(9000), Protocol: corev1.ProtocolTCP}}},
	}
}
