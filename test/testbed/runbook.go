package testbed

// RunbookPodDefault is the runbook's deployment/040-pod_default_multiuser.yaml, written out here
// from the runbook (not taken from the product), with the namespace placeholder that its
// create_PodDefault.sh replaces with sed. Tests judge what `profile poddefault` creates by it;
// benchmarks apply it the runbook's way.
const RunbookPodDefault = `apiVersion: kubeflow.org/v1alpha1
kind: PodDefault
metadata:
  name: access-ml-pipeline
  namespace: "<YOUR_USER_PROFILE_NAMESPACE>"
spec:
  desc: Allow access to Kubeflow Pipelines
  selector:
    matchLabels:
      access-ml-pipeline: "true"
  env:
    - name: KF_PIPELINES_SA_TOKEN_PATH
      value: /var/run/secrets/kubeflow/pipelines/token
  volumes:
    - name: volume-kf-pipeline-token
      projected:
        sources:
          - serviceAccountToken:
              path: token
              expirationSeconds: 7200
              audience: pipelines.kubeflow.org
  volumeMounts:
    - mountPath: /var/run/secrets/kubeflow/pipelines
      name: volume-kf-pipeline-token
      readOnly: true
`
