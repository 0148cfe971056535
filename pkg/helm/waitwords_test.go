package helm

import "testing"

// The lines are helm v3's readiness log lines (pkg/kube/ready.go) as its wait writes them.
func TestWaitWords(t *testing.T) {
	for in, want := range map[string]string{
		"Deployment is not ready: metallb-system/metallb-controller. 0 out of 1 expected pods are ready":                            "Deployment metallb-system/metallb-controller: 0/1 pods ready",
		"ReplicaSet is not ready: gpu-operator/gpu-operator-7d9f8b6c5d. observedGeneration (1) does not match spec generation (2).": "Deployment gpu-operator/gpu-operator: its new ReplicaSet gpu-operator-7d9f8b6c5d is not rolled out yet",
		"DaemonSet is not ready: metallb-system/metallb-speaker. 1 out of 3 expected pods have been scheduled":                      "DaemonSet metallb-system/metallb-speaker: 1/3 pods scheduled",
		"StatefulSet is not ready: kubeflow/db. observedGeneration (3) does not match spec generation (4).":                         "StatefulSet kubeflow/db: its controller has not acted on the new spec yet",
		"PersistentVolumeClaim is not bound: kubeflow/data":                                                                         "PersistentVolumeClaim kubeflow/data: not bound to a volume yet",
		"Service does not have load balancer ingress IP address: istio-system/istio-ingressgateway":                                 "Service istio-system/istio-ingressgateway: no load-balancer address yet",
		"Job is not completed: gpu-operator/upgrade-crd":                                                                            "Job gpu-operator/upgrade-crd: not completed yet",
		"Pod is not ready: nfs-provisioner/nfs-0":                                                                                   "Pod nfs-provisioner/nfs-0: not ready",
		"something helm says that we do not know":                                                                                   "something helm says that we do not know",
	} {
		if got := waitWords(in); got != want {
			t.Errorf("%q:\n got %q\nwant %q", in, got, want)
		}
	}
}
