// Package kube holds the cluster-facing engines: clients from one RESTClientGetter, the
// server-side apply engine, waits, and small probes such as CSR signing.
package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/access"
)

// CSRProbeRules are what ProbeCSRSigning does: read, create and delete its CSR, and approve it
// (the approval subresource and the signer's approve verb).
var CSRProbeRules = []rbacv1.PolicyRule{
	access.Rule("certificates.k8s.io", []string{"certificatesigningrequests"}, "get", "create", "delete"),
	access.Rule("certificates.k8s.io", []string{"certificatesigningrequests/approval"}, "update"),
	access.Named("certificates.k8s.io", []string{"signers"}, []string{"kubernetes.io/kube-apiserver-client"}, "approve"),
}

// ProbeCSRSigning creates a throw-away CertificateSigningRequest for a client certificate,
// approves it and waits up to timeout for the controller-manager to issue the certificate. It
// deletes the CSR in every case. signed is false when no certificate came in time: on RKE that
// means kube-controller lacks cluster-signing-cert-file/cluster-signing-key-file.
func ProbeCSRSigning(ctx context.Context, client kubernetes.Interface, timeout time.Duration) (signed bool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "flexigrobots-csr-probe"},
	}, key)
	if err != nil {
		return false, err
	}
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: "flexigrobots-csr-probe-",
			Labels:       map[string]string{ManagedByLabel: FieldManager},
		},
		Spec: certv1.CertificateSigningRequestSpec{
			Request:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName: certv1.KubeAPIServerClientSignerName,
			Usages:     []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth},
		},
	}
	csrs := client.CertificatesV1().CertificateSigningRequests()
	created, err := csrs.Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("create CertificateSigningRequest: %w", err)
	}
	defer func() {
		// Clean up even when ctx was cancelled (Ctrl-C): use a short context of our own.
		delCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = csrs.Delete(delCtx, created.Name, metav1.DeleteOptions{})
	}()
	created.Status.Conditions = append(created.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue,
		Reason: "FlexigrobotsProbe", Message: "approved by kubectl flexigrobots to test CSR signing",
	})
	if _, err := csrs.UpdateApproval(ctx, created.Name, created, metav1.UpdateOptions{}); err != nil {
		return false, fmt.Errorf("approve CertificateSigningRequest %s: %w", created.Name, err)
	}
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		got, err := csrs.Get(ctx, created.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return len(got.Status.Certificate) > 0, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil
	}
	return true, nil
}
