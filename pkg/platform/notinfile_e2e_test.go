package platform

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/section/registry"
	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// TestNotInFileOnTheAPIServer (apiserver-only 1.37 bed): the sections an earlier apply recorded
// that the file no longer declares are named, in the runbook's order, only those of --only
// when given; none without a record.
func TestNotInFileOnTheAPIServer(t *testing.T) {
	c := testbed.SharedAPIServer(t, testbed.Options{Version: testbed.V137})
	cl, err := kube.NewClients(kube.NewFactory(c.ConfigFlags()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pl := &Platform{Blocks: []Block{{Section: registry.Lookup("storage")}}}
	if got, err := NotInFile(ctx, cl, pl, nil); err != nil || len(got) != 0 {
		t.Fatalf("without a record: %v %v", got, err)
	}
	rec := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: section.PlatformRecord, Namespace: kube.RecordNamespace},
		Data: map[string]string{"profiles": "allProfiles: true\n", "storage": "nfsServer: 127.0.0.1\n", "tls": "domain: x\n"}}
	if _, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Create(ctx, rec, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Delete(ctx, rec.Name, metav1.DeleteOptions{})
	}()
	if got, err := NotInFile(ctx, cl, pl, nil); err != nil || !slices.Equal(got, []string{"tls", "profiles"}) {
		t.Errorf("not in the file: %v %v, want [tls profiles]", got, err)
	}
	if got, _ := NotInFile(ctx, cl, pl, []string{"tls", "lb"}); !slices.Equal(got, []string{"tls"}) {
		t.Errorf("with --only tls,lb: %v, want [tls]", got)
	}
}
