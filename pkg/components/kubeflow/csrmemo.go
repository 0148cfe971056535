package kubeflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/kube"
)

// A re-run does not probe CSR signing again when the last converge on this cluster probed it
// and it passed: the probe creates, approves and deletes a CertificateSigningRequest, which a
// no-op re-run should not do. What signing depends on (kube-controller-manager's
// cluster-signing flags) is not visible through the API, so the memo holds for CSRMemoMaxAge
// and for one server version (an upgrade re-probes); `verify --section cluster` always probes.
// The memo is an annotation on the section's apply record ConfigMap, written after a converge
// whose probe passed (never on a dry run).

// CSRMemoAnnotation on the kubeflow apply record says when the CSR-signing probe last passed,
// and on which server version.
const CSRMemoAnnotation = "flexigrobots.io/csr-signing-passed"

// CSRMemoMaxAge is how long a passed probe is trusted (the messages say "a day").
const CSRMemoMaxAge = 24 * time.Hour

type csrMemo struct {
	Server string    `json:"server"`
	At     time.Time `json:"at"`
}

// csrProbeNeeded says whether the probe must run, and why (or why not), in one line; server is
// the server's version for recordCSRPass ("" when unreadable: then nothing is recorded).
func csrProbeNeeded(ctx context.Context, c *kube.Clients, now time.Time) (need bool, why, server string) {
	v, err := c.Discovery.ServerVersion()
	if err != nil {
		return true, "", ""
	}
	server = v.GitVersion
	cm, err := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace).Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{})
	if err != nil {
		return true, "", server // a first install (or the record cannot be read): probe
	}
	raw, ok := cm.Annotations[CSRMemoAnnotation]
	if !ok {
		return true, "", server
	}
	var m csrMemo
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m.At.IsZero() {
		return true, "kubeflow: preflight: probing CSR signing again (its record on " + kube.RecordNamespace + "/" + cm.Name + " does not read)", server
	}
	age := now.Sub(m.At).Round(time.Second)
	switch {
	case m.Server != server:
		return true, fmt.Sprintf("kubeflow: preflight: probing CSR signing again: it passed on server %s, this is %s", m.Server, server), server
	case age > CSRMemoMaxAge || age < -time.Minute:
		return true, fmt.Sprintf("kubeflow: preflight: probing CSR signing again: it passed %s ago (a pass is trusted for a day)", age), server
	}
	return false, fmt.Sprintf("kubeflow: preflight: CSR signing passed %s ago on this server (%s): not probed again (a re-run a day after it passed, or on an upgraded server, probes; `kubectl flexigrobots verify --section cluster` probes it now)",
		age, server), server
}

// recordCSRPass writes the memo of a probe that passed on server (a version; "" records nothing)
// on the record ConfigMap, which the converge's apply has just saved; a failure is a warning for
// the caller: the next run probes.
func recordCSRPass(ctx context.Context, c *kube.Clients, server string, now time.Time) error {
	if server == "" {
		return nil
	}
	raw, err := json.Marshal(csrMemo{Server: server, At: now.UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	cms := c.Client.CoreV1().ConfigMaps(kube.RecordNamespace)
	return kube.Retry(ctx, func(ctx context.Context) error {
		cm, err := cms.Get(ctx, kube.RecordName("kubeflow"), metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil // nothing recorded (e.g. every object was a Secret): the next run probes
		}
		if err != nil {
			return err
		}
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[CSRMemoAnnotation] = string(raw)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: kube.FieldManager})
		return err
	})
}
