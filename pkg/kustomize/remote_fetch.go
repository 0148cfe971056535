package kustomize

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/flexigrobots/kubectl-flexigrobots/internal/cachefile"
)

const (
	downloadAttempts = 3
	maxDownloadBytes = 1 << 30 // a remote base larger than this is refused
)

// fetchResult is the content of one remote download and where it came from.
type fetchResult struct {
	data   []byte
	from   string
	sum    string
	pinned bool
	cached bool
}

// PinMismatchError is a download whose sha256 differs from its pin.
type PinMismatchError struct {
	Entry, URL, From, Got, Want string
}

func (e *PinMismatchError) Error() string {
	return fmt.Sprintf("remote base %s: %s has sha256 %s, but %s is pinned at sha256 %s: it is not the pinned content "+
		"(changed upstream, a different file in the mirror, or altered on the way), so it is neither used nor cached; "+
		"put the right file in the mirror, or correct the pin", e.Entry, e.From, e.Got, e.URL, e.Want)
}

// httpStatusError is a non-200 answer; transient ones (5xx, 408, 429) are retried.
type httpStatusError struct {
	url    string
	status string
	code   int
}

func (e *httpStatusError) Error() string { return fmt.Sprintf("GET %s: HTTP %s", e.url, e.status) }

func (e *httpStatusError) transient() bool {
	return e.code >= 500 || e.code == http.StatusRequestTimeout || e.code == http.StatusTooManyRequests
}

// pin is the expected sha256 of the canonical URL, "" when unpinned.
func (r Remotes) pin(canonical string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(r.Pins[canonical]), "sha256:"))
}

func (r Remotes) logf(format string, args ...any) {
	if r.Logf != nil {
		r.Logf(format, args...)
	}
}

// mirrorIsDir reports whether the mirror is a local folder rather than an http(s) base URL.
func (r Remotes) mirrorIsDir() bool { return r.Mirror != "" && !isHTTPURL(r.Mirror) }

// source is where spec is read from: the canonical URL, the mirror URL or the mirror file.
func (r Remotes) source(spec remoteSpec) string {
	switch {
	case r.Mirror == "":
		return spec.URL
	case r.mirrorIsDir():
		return filepath.Join(r.Mirror, spec.Name)
	default:
		return strings.TrimSuffix(r.Mirror, "/") + "/" + spec.Name
	}
}

// cacheFile is the cache entry of a download from src (keyed by the full source URL).
func (r Remotes) cacheFile(spec remoteSpec, src string) string {
	if r.CacheDir == "" || r.mirrorIsDir() {
		return ""
	}
	sum := sha256.Sum256([]byte(src))
	return filepath.Join(r.CacheDir, hex.EncodeToString(sum[:8])+"-"+spec.Name)
}

// obtain returns the verified content of spec: from the cache when allowed and still matching its
// pin (a mismatching entry is removed), else from the mirror folder or by download.
func (r Remotes) obtain(ctx context.Context, spec remoteSpec, useCache bool) (fetchResult, error) {
	pin, src := r.pin(spec.URL), r.source(spec)
	verify := func(res fetchResult) (fetchResult, error) {
		sum := sha256.Sum256(res.data)
		res.sum = hex.EncodeToString(sum[:])
		if pin != "" && res.sum != pin {
			return res, &PinMismatchError{Entry: spec.Entry, URL: spec.URL, From: res.from, Got: res.sum, Want: pin}
		}
		res.pinned = pin != ""
		return res, nil
	}
	if r.mirrorIsDir() {
		data, err := os.ReadFile(src)
		if errors.Is(err, os.ErrNotExist) {
			return fetchResult{}, fmt.Errorf("remote base %s: the remote-bases mirror folder %s has no %s: download %s and save it there under that name",
				spec.Entry, r.Mirror, spec.Name, spec.URL)
		} else if err != nil {
			return fetchResult{}, fmt.Errorf("remote base %s: %w", spec.Entry, err)
		}
		return verify(fetchResult{data: data, from: src})
	}
	cache := r.cacheFile(spec, src)
	if cache != "" && useCache {
		if data, err := os.ReadFile(cache); err == nil {
			res, err := verify(fetchResult{data: data, from: cache, cached: true})
			if err == nil {
				r.logf("remote: %s from cache %s", spec.Entry, cache)
				return res, nil
			}
			r.logf("remote: cached %s does not match its pin (sha256 %s): removing it and downloading again", cache, res.sum)
			_ = os.Remove(cache)
		}
	}
	data, err := r.download(ctx, spec, src)
	if err != nil {
		return fetchResult{}, err
	}
	res, err := verify(fetchResult{data: data, from: src})
	if err != nil {
		return res, err
	}
	if cache != "" {
		if err := cachefile.Write(cache, data); err != nil {
			r.logf("remote: could not cache %s: %v", src, err)
		}
	}
	return res, nil
}

// download GETs src, retrying transient failures (connection errors, 5xx) up to three times.
func (r Remotes) download(ctx context.Context, spec remoteSpec, src string) ([]byte, error) {
	client := r.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	wait := r.retryWait
	if wait <= 0 {
		wait = time.Second
	}
	var last error
	for i := 1; i <= downloadAttempts; i++ {
		if i > 1 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("remote base %s: download %s: %w (last error: %v)", spec.Entry, src, ctx.Err(), last)
			case <-time.After(time.Duration(i-1) * wait):
			}
		}
		r.logf("remote: downloading %s (attempt %d/%d)", src, i, downloadAttempts)
		data, err := get(ctx, client, src)
		if err == nil {
			return data, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("remote base %s: download %s: %w", spec.Entry, src, ctx.Err())
		}
		var st *httpStatusError
		if errors.As(err, &st) && !st.transient() {
			return nil, r.finalError(spec, src, st)
		}
		r.logf("remote: download %s failed: %v", src, err)
	}
	if r.Mirror != "" {
		return nil, fmt.Errorf("remote base %s: download failed %d times, last: %v; check that the remote-bases mirror %s is up and serves %s",
			spec.Entry, downloadAttempts, last, r.Mirror, spec.Name)
	}
	return nil, fmt.Errorf("remote base %s: download failed %d times, last: %v; on a site without GitHub access, "+
		"put %s (from %s) in a folder and give it as the remote-bases mirror", spec.Entry, downloadAttempts, last, spec.Name, spec.URL)
}

// finalError explains a non-retried HTTP answer (404 and the like).
func (r Remotes) finalError(spec remoteSpec, src string, st *httpStatusError) error {
	if r.Mirror != "" {
		return fmt.Errorf("remote base %s: %v: the remote-bases mirror %s has no %s; download %s and put it there under that name",
			spec.Entry, st, r.Mirror, spec.Name, spec.URL)
	}
	hint := "check the URL"
	if spec.Archive {
		hint = "check that the ref " + spec.Ref + " is a tag or full commit id of " + spec.Org + "/" + spec.Repo + " (branches are not fetched)"
	}
	return fmt.Errorf("remote base %s: %v; %s; on a site without GitHub access, put %s in a folder and give it as the remote-bases mirror",
		spec.Entry, st, hint, spec.Name)
}

// get reads src to the end; a short read is an error (and retried).
func get(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &httpStatusError{url: src, status: resp.Status, code: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDownloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", src, err)
	}
	if len(data) > maxDownloadBytes {
		return nil, fmt.Errorf("GET %s: larger than %d bytes", src, maxDownloadBytes)
	}
	return data, nil
}
