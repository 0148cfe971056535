package testbed

import (
	"fmt"
	"os"
	"strings"
)

// StepTimes reads a script's "step unix-time" marks (one a line, the first the start) and says
// how long each step took, e.g. "storage 1.6s, lb 5.3s"; an unreadable file or line is said in
// its place.
func StepTimes(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var out []string
	prev := 0.0
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var name string
		var at float64
		if _, err := fmt.Sscanf(line, "%s %f", &name, &at); err != nil {
			return "bad step mark " + line
		}
		if i > 0 {
			out = append(out, fmt.Sprintf("%s %.1fs", name, at-prev))
		}
		prev = at
	}
	return strings.Join(out, ", ")
}
