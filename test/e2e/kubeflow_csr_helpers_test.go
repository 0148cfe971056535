package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/kubeflow"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// csrsCreatedDuring runs fn and returns the names of the CertificateSigningRequests created
// meanwhile (watched, since the CSR-signing probe deletes its CSR afterwards).
func csrsCreatedDuring(t *testing.T, c *testbed.Cluster, fn func()) []string {
	t.Helper()
	ctx := context.Background()
	list, err := c.Client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Client.CertificatesV1().CertificateSigningRequests().Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	var created []string
	done := make(chan struct{})
	go func() { // read while fn runs: events still unread when the watch stops are dropped
		defer close(done)
		for ev := range w.ResultChan() {
			if o, ok := ev.Object.(metav1.Object); ok && ev.Type == watch.Added {
				created = append(created, o.GetName())
			}
		}
	}()
	fn()
	time.Sleep(time.Second) // the last events reach the watch
	w.Stop()
	<-done
	return created
}

// assertCSRProbeRemembered proves a re-run after a converge whose CSR-signing probe passed
// creates no CSR and says why, and that a pass older than a day is probed again.
func assertCSRProbeRemembered(t *testing.T, c *testbed.Cluster, args []string) {
	t.Helper()
	ctx := context.Background()
	run := append(append([]string{"kubeflow"}, args...), "--wait=false")
	var r result
	if created := csrsCreatedDuring(t, c, func() { r = runPlugin(t, c, run...) }); len(created) != 0 || r.code != 0 {
		t.Fatalf("re-run after a passed probe: exit %d, created CSRs %v", r.code, created)
	}
	if !strings.Contains(r.stderr, "CSR signing passed") || !strings.Contains(r.stderr, "not probed again") {
		t.Fatalf("re-run does not say why it did not probe CSR signing:\n%s", r.stderr)
	}

	// The memo aged by two days (as if the last converge was then): probed again, and said so.
	records := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	cm, err := records.Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var memo map[string]any
	if err := json.Unmarshal([]byte(cm.Annotations[kubeflow.CSRMemoAnnotation]), &memo); err != nil {
		t.Fatalf("annotation %s: %v", kubeflow.CSRMemoAnnotation, err)
	}
	memo["at"] = time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	aged, _ := json.Marshal(memo)
	cm.Annotations[kubeflow.CSRMemoAnnotation] = string(aged)
	if _, err := records.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if created := csrsCreatedDuring(t, c, func() { r = runPlugin(t, c, run...) }); len(created) != 1 || r.code != 0 {
		t.Fatalf("re-run after a day: exit %d, created CSRs %v (want the probe's one)\n%s", r.code, created, r.stderr)
	}
	if !strings.Contains(r.stderr, "probing CSR signing again") {
		t.Fatalf("re-run after a day does not say why it probed again:\n%s", r.stderr)
	}
	if cm, err = records.Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{}); err != nil || cm.Annotations[kubeflow.CSRMemoAnnotation] == string(aged) {
		t.Fatalf("the new pass was not recorded (%v)", err)
	}
}

// assertNoCSRClientNoProbe proves a converge of a release whose build has no workload asking the
// cluster's CA for certificates (cert-manager issues them from v1.6 on) creates no CSR and says
// why it did not probe.
func assertNoCSRClientNoProbe(t *testing.T, c *testbed.Cluster, version string, args []string) {
	t.Helper()
	run := append(append([]string{"kubeflow"}, args...), "--wait=false")
	var r result
	if created := csrsCreatedDuring(t, c, func() { r = runPlugin(t, c, run...) }); len(created) != 0 || r.code != 0 {
		t.Fatalf("re-run of %s: exit %d, created CSRs %v", version, r.code, created)
	}
	if want := "CSR signing not probed: no workload of the " + version + " build asks the cluster's CA for certificates"; !strings.Contains(r.stderr, want) {
		t.Fatalf("the run does not say %q:\n%s", want, r.stderr)
	}
}
