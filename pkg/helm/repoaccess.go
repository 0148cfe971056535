package helm

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// repoAccess is how to reach a chart repository or registry: the chart flags' credentials and
// TLS files, the password read from its file.
type repoAccess struct {
	f        core.ChartSource
	password string
}

func newRepoAccess(f core.ChartSource) (repoAccess, error) {
	a := repoAccess{f: f}
	if f.PasswordFile != "" {
		b, err := os.ReadFile(f.PasswordFile)
		if err != nil {
			return a, core.UsageErrorf("--chart-password-file: %v", err)
		}
		a.password = strings.TrimRight(string(b), "\r\n")
	}
	return a, nil
}

// options are helm's getter options for the repository's index, charts and provenance files.
func (a repoAccess) options() []getter.Option {
	opts := []getter.Option{
		getter.WithTLSClientConfig(a.f.CertFile, a.f.KeyFile, a.f.CAFile),
		getter.WithInsecureSkipVerifyTLS(a.f.InsecureSkipTLSVerify),
	}
	if a.f.Username != "" {
		opts = append(opts, getter.WithBasicAuth(a.f.Username, a.password))
	}
	return opts
}

// entry is the repository as helm's repo.Entry (what `helm repo add` would record).
func (a repoAccess) entry(url string) *repo.Entry {
	return &repo.Entry{Name: "index", URL: url, Username: a.f.Username, Password: a.password,
		CertFile: a.f.CertFile, KeyFile: a.f.KeyFile, CAFile: a.f.CAFile, InsecureSkipTLSverify: a.f.InsecureSkipTLSVerify}
}

// registryClient is helm's OCI registry client with the TLS files and credentials (without
// credentials, `helm registry login`'s stored ones apply).
func (a repoAccess) registryClient() (*registry.Client, error) {
	opts := []registry.ClientOption{registry.ClientOptEnableCache(true)}
	if a.f.CertFile != "" || a.f.CAFile != "" || a.f.InsecureSkipTLSVerify {
		cfg := &tls.Config{InsecureSkipVerify: a.f.InsecureSkipTLSVerify} //nolint:gosec // the user asked for it
		if a.f.CAFile != "" {
			pem, err := os.ReadFile(a.f.CAFile)
			if err != nil {
				return nil, core.UsageErrorf("--chart-ca-file: %v", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, core.UsageErrorf("--chart-ca-file %s holds no PEM certificate", a.f.CAFile)
			}
		}
		if a.f.CertFile != "" {
			pair, err := tls.LoadX509KeyPair(a.f.CertFile, a.f.KeyFile)
			if err != nil {
				return nil, core.UsageErrorf("--chart-cert-file/--chart-key-file: %v", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		opts = append(opts, registry.ClientOptHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment}}))
	}
	if a.f.Username != "" {
		opts = append(opts, registry.ClientOptBasicAuth(a.f.Username, a.password))
	}
	rc, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("helm: registry client: %w", err)
	}
	return rc, nil
}

// fileDigest is the sha256 of a file, as a repository index records a chart's digest.
func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return dataDigest(b), nil
}

func dataDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
