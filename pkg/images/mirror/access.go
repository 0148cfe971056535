package mirror

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

// Access is how to reach the destination registry: the docker config's credentials (as docker
// login wrote them), or a username and a password read from a file; a CA file for a registry
// with a private CA; or no TLS verification at all.
type Access struct {
	Username, PasswordFile string
	CAFile                 string
	InsecureSkipTLSVerify  bool
}

// Options are the registry options of a; a missing or unreadable file is a usage error.
func (a Access) Options() ([]remote.Option, error) {
	var opts []remote.Option
	switch {
	case a.Username != "" && a.PasswordFile == "", a.Username == "" && a.PasswordFile != "":
		return nil, core.UsageErrorf("--registry-username and --registry-password-file go together")
	case a.Username != "":
		pw, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return nil, core.UsageErrorf("--registry-password-file: %v", err)
		}
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: a.Username, Password: strings.TrimRight(string(pw), "\r\n")}))
	default:
		opts = append(opts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if a.CAFile == "" && !a.InsecureSkipTLSVerify {
		return opts, nil
	}
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.InsecureSkipTLSVerify} //nolint:gosec // asked for by --registry-insecure-skip-tls-verify
	if a.CAFile != "" {
		pem, err := os.ReadFile(a.CAFile)
		if err != nil {
			return nil, core.UsageErrorf("--registry-ca-file: %v", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, core.UsageErrorf("--registry-ca-file %s: no PEM certificate in it", a.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return append(opts, remote.WithTransport(tr)), nil
}

// SourceOptions are the options for pulling from the images' own registries: the docker
// config's credentials, and the environment's proxy and CAs (HTTPS_PROXY, SSL_CERT_FILE).
func SourceOptions() []remote.Option {
	return []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
}

// ParsePlatform reads --platform os/arch[/variant]; "" is every platform.
func ParsePlatform(s string) (*v1.Platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := v1.ParsePlatform(s)
	if err == nil && (p.OS == "" || p.Architecture == "") {
		err = errors.New("an OS and an architecture are needed")
	}
	if err != nil {
		return nil, core.UsageErrorf("--platform %q: %v (want os/arch, e.g. linux/amd64)", s, err)
	}
	return p, nil
}
