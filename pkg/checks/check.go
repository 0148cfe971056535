package checks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// Severity orders results: OK < Info < Warn < Error. The zero value means "not set": a Result
// returned with it takes its check's Severity (see Fail).
type Severity int

// Severities, from best to worst.
const (
	OK Severity = iota + 1
	Info
	Warn
	Error
)

var severityNames = map[Severity]string{OK: "ok", Info: "info", Warn: "warn", Error: "error"}

// String is the lower-case name used in json, yaml and junit ("ok", "info", "warn", "error").
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the name, so json and yaml carry "error" rather than a number.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	for k, v := range severityNames {
		if v == strings.ToLower(string(b)) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("unknown severity %q: want ok, info, warn or error", b)
}

// Result is one finding of a check. Run fills Severity (or leaves it zero, see Fail), Message and
// Fix; the runner fills ID, Section and Title from the check.
type Result struct {
	ID       string   `json:"id"`
	Section  string   `json:"section"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	// Message says what was found, naming the objects concerned (one line).
	Message string `json:"message"`
	// Fix says what to do about it (may span lines, e.g. a YAML snippet); empty when OK.
	Fix string `json:"fix,omitempty"`
	// Missing marks a failure that means the section is not installed at all (see
	// NotInstalledAsInfo).
	Missing bool `json:"-"`
}

// Pass is an OK result.
func Pass(format string, args ...any) Result {
	return Result{Severity: OK, Message: fmt.Sprintf(format, args...)}
}

// Note is an Info result: worth knowing, never a failure.
func Note(message, fix string) Result { return Result{Severity: Info, Message: message, Fix: fix} }

// Fail is a failed result with the check's own Severity.
func Fail(message, fix string) Result { return Result{Message: message, Fix: fix} }

// NotInstalled is the failure of a check that finds its section not installed at all (no
// MetalLB CRDs, no provisioner Deployment). It fails like Fail when the section was asked for
// (verify -f); otherwise NotInstalledAsInfo turns the section's findings into notes.
func NotInstalled(message, fix string) Result {
	return Result{Message: message, Fix: fix, Missing: true}
}

// NotInstalledAsInfo is verify without a platform file: a section that is not installed is
// not a failure. Every finding that is not OK in a section with a NotInstalled result becomes an
// Info "not installed: ..." (naming what is missing and how to install it); other sections'
// results are kept as they are.
func NotInstalledAsInfo(rs []Result) []Result {
	missing := map[string]Result{}
	for _, r := range rs {
		if _, seen := missing[r.Section]; r.Missing && !seen {
			missing[r.Section] = r
		}
	}
	out := make([]Result, len(rs))
	for i, r := range rs {
		if m, ok := missing[r.Section]; ok && r.Severity != OK {
			r = Result{ID: r.ID, Section: r.Section, Title: r.Title, Severity: Info,
				Message: "not installed: " + m.Message, Fix: m.Fix}
		}
		out[i] = r
	}
	return out
}

// Warning is a Warn result, for a check whose failures are errors but which also has
// something lesser to say.
func Warning(message, fix string) Result { return Result{Severity: Warn, Message: message, Fix: fix} }

// CannotEvaluate is the Error result of a check whose input could not be collected, except when
// the caller may not read it (a Forbidden answer, or a probe that found it is not allowed to
// run, see NotAllowed): then the check is skipped as an Info result, fix saying what it needs,
// so a read-only identity (a CI account bound to `view`) gets a verify whose exit code reflects
// only real findings.
func CannotEvaluate(err error, fix string) Result {
	var na *notAllowedError
	if errors.As(err, &na) || apierrors.IsForbidden(err) {
		return Result{Severity: Info, Message: "skipped, this identity may not: " + err.Error(), Fix: fix}
	}
	return Result{Severity: Error, Message: "cannot evaluate: " + err.Error(), Fix: fix}
}

// NotAllowed is the error of a probe that did not run because the caller lacks what it needs
// (e.g. the CSR-signing probe without approve rights): checks reading it are skipped.
func NotAllowed(format string, args ...any) error {
	return &notAllowedError{msg: fmt.Sprintf(format, args...)}
}

type notAllowedError struct{ msg string }

func (e *notAllowedError) Error() string { return e.msg }

// Check is one verification with a stable ID. Checks are values: declare them in the section's
// package and register them (see the package documentation).
type Check struct {
	// ID is stable across releases: SECTION-NNN, e.g. CLUSTER-003. Never reuse a retired ID.
	ID string
	// Section is the runbook section ("cluster", "storage", "lb", ...) `verify --section` selects.
	Section string
	// Title is a short name ("Exactly one default StorageClass").
	Title string
	// Severity is what a failure of this check costs (Info, Warn or Error).
	Severity Severity
	// Resources are the types Run reads from the snapshot (listed once per run, all namespaces).
	Resources []schema.GroupVersionResource
	// Probes are the calls other than LISTs Run needs (run once per run, by name).
	Probes []Probe
	// Run evaluates the snapshot. It must be pure: no cluster calls, no clock, no randomness.
	Run func(s *Snapshot) []Result
}

// Probe is a call a check needs besides LISTs (an access review, a CSR round trip). It runs in
// the collector, never in Run; its value (or error) is stored in the snapshot under Name.
type Probe struct {
	// Name is the snapshot key; checks sharing a probe use the same Name and the same function.
	Name string
	// Writes documents that the probe creates objects (and deletes them before returning).
	Writes bool
	// Run does the call; the value must be what checks read with ProbeAs.
	Run func(ctx context.Context, env Env) (any, error)
	// Rules are the calls Run makes, as RBAC rules (part of verify's access declaration, see
	// Registry.Access).
	Rules []rbacv1.PolicyRule
}

// Env is what a probe may use: clients built from the command's one RESTClientGetter.
type Env struct {
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
	// Host is the API server URL (for messages).
	Host string
	// ProbeTimeout bounds how long a probe waits for the cluster to act (e.g. sign a CSR).
	ProbeTimeout time.Duration
}
