package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// explain turns the last poll into an error that lists what is not ready and why: for a workload,
// its pods' phase, container waiting reason and last event. It recognises the "too many open
// files" crash the runbook fixes with inotify sysctls.
func (w *Waiter) explain(last []status, lastErr, waitErr error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var b strings.Builder
	fmt.Fprintf(&b, "%s: not ready: %v", w.Label, waitErr)
	if lastErr != nil {
		fmt.Fprintf(&b, " (last error: %v)", lastErr)
	}
	var notReady []status
	for _, s := range last {
		if !s.ready {
			notReady = append(notReady, s)
		}
	}
	sort.Slice(notReady, func(i, j int) bool { return notReady[i].ref < notReady[j].ref })
	for i, s := range notReady {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(notReady)-20)
			break
		}
		fmt.Fprintf(&b, "\n  - %s: %s", s.ref, s.reason)
		if s.podSelector != "" {
			for _, line := range w.podReasons(ctx, s.namespace, s.podSelector) {
				fmt.Fprintf(&b, "\n      %s", line)
			}
		}
	}
	if strings.Contains(b.String(), "too many open files") {
		b.WriteString("\n  hint: pods fail with \"too many open files\": raise the inotify limits on every node:\n" +
			"    sudo sysctl fs.inotify.max_user_instances=1280\n    sudo sysctl fs.inotify.max_user_watches=655360")
	}
	return fmt.Errorf("%s", b.String())
}

// podReasons describes the not-ready pods of a workload (at most three).
func (w *Waiter) podReasons(ctx context.Context, ns, selector string) []string {
	pods, err := w.Clients.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range pods.Items {
		if podIsReady(&p) {
			continue
		}
		line := fmt.Sprintf("pod %s: phase %s", p.Name, p.Status.Phase)
		for _, c := range p.Status.ContainerStatuses {
			if c.State.Waiting != nil {
				line += fmt.Sprintf(", container %s waiting: %s %s", c.Name, c.State.Waiting.Reason, c.State.Waiting.Message)
			}
			if c.LastTerminationState.Terminated != nil && c.LastTerminationState.Terminated.Message != "" {
				line += fmt.Sprintf(", last exit: %s", c.LastTerminationState.Terminated.Message)
			}
		}
		if ev := lastEvent(ctx, w, ns, p.Name); ev != "" {
			line += "; last event: " + ev
		}
		out = append(out, line)
		if len(out) == 3 {
			break
		}
	}
	return out
}

func podIsReady(p *corev1.Pod) bool {
	if p.Status.Phase == corev1.PodSucceeded {
		return true
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func lastEvent(ctx context.Context, w *Waiter, ns, pod string) string {
	evs, err := w.Clients.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: fields.AndSelectors(fields.OneTermEqualSelector("involvedObject.name", pod), fields.OneTermEqualSelector("involvedObject.kind", "Pod")).String(),
	})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	sort.Slice(evs.Items, func(i, j int) bool { return evs.Items[i].LastTimestamp.Before(&evs.Items[j].LastTimestamp) })
	e := evs.Items[len(evs.Items)-1]
	return e.Reason + ": " + e.Message
}
