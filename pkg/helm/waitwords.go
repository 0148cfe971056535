package helm

import (
	"fmt"
	"regexp"
	"strings"
)

// helmWait matches helm's readiness log lines ("Deployment is not ready: ns/name. 0 out of 1
// expected pods are ready"): the kind, what is missing, the object and the detail after it.
var helmWait = regexp.MustCompile(`^(\w+) (is not ready|is not bound|does not have [^:]+|is not completed|is failed): ([^/\s]+)/([^.\s]+)\.?\s*(.*)$`)

var (
	outOf      = regexp.MustCompile(`^(\d+) out of (\d+) expected pods (are ready|have been scheduled)`)
	generation = regexp.MustCompile(`^observedGeneration \(\d+\) does not match spec generation`)
	// podTemplateHash is the suffix a Deployment's controller gives its ReplicaSets.
	podTemplateHash = regexp.MustCompile(`-[a-z0-9]{5,10}$`)
)

// waitWords says one of helm's readiness messages as which workload waits for what, e.g.
// "Deployment metallb-system/controller: 0/1 pods ready". A ReplicaSet that helm watches for a
// Deployment is named by its Deployment. A line it does not know stays as helm wrote it.
func waitWords(msg string) string {
	m := helmWait.FindStringSubmatch(strings.TrimSpace(msg))
	if m == nil {
		return strings.TrimSpace(msg)
	}
	kind, state, ref, detail := m[1], m[2], m[3]+"/"+m[4], m[5]
	if kind == "ReplicaSet" && podTemplateHash.MatchString(m[4]) {
		kind, ref = "Deployment", m[3]+"/"+podTemplateHash.ReplaceAllString(m[4], "")
		if generation.MatchString(detail) {
			return fmt.Sprintf("%s %s: its new ReplicaSet %s is not rolled out yet", kind, ref, m[4])
		}
	}
	if o := outOf.FindStringSubmatch(detail); o != nil {
		what := "ready"
		if o[3] == "have been scheduled" {
			what = "scheduled"
		}
		return fmt.Sprintf("%s %s: %s/%s pods %s", kind, ref, o[1], o[2], what)
	}
	if generation.MatchString(detail) {
		return fmt.Sprintf("%s %s: its controller has not acted on the new spec yet", kind, ref)
	}
	switch {
	case state == "is not bound":
		return fmt.Sprintf("%s %s: not bound to a volume yet", kind, ref)
	case strings.Contains(state, "load balancer ingress"):
		return fmt.Sprintf("%s %s: no load-balancer address yet", kind, ref)
	case strings.Contains(state, "cluster IP"):
		return fmt.Sprintf("%s %s: no cluster IP yet", kind, ref)
	case state == "is not completed":
		return fmt.Sprintf("%s %s: not completed yet", kind, ref)
	case state == "is failed":
		return fmt.Sprintf("%s %s: failed", kind, ref)
	}
	if detail != "" {
		return fmt.Sprintf("%s %s: not ready (%s)", kind, ref, detail)
	}
	return fmt.Sprintf("%s %s: not ready", kind, ref)
}
