package core

// DryRunStrategy is how a run treats the cluster, as kubectl's --dry-run: None changes it,
// Client reports what would change from the live state without sending a change, Server has the
// API server check every change without persisting it.
type DryRunStrategy string

// The dry-run strategies, spelled as --dry-run takes them.
const (
	DryRunNone   DryRunStrategy = "none"
	DryRunClient DryRunStrategy = "client"
	DryRunServer DryRunStrategy = "server"
)

// Active tells whether nothing may be persisted (client or server). The zero value is none.
func (d DryRunStrategy) Active() bool { return d != "" && d != DryRunNone }

// Label is the strategy for a summary: "" when the run changes the cluster.
func (d DryRunStrategy) Label() string {
	if !d.Active() {
		return ""
	}
	return string(d)
}

// ParseDryRun reads a --dry-run value (exit code 2 on anything but none, client or server).
func ParseDryRun(v string) (DryRunStrategy, error) {
	switch d := DryRunStrategy(v); d {
	case DryRunNone, DryRunClient, DryRunServer:
		return d, nil
	}
	return DryRunNone, UsageErrorf("invalid --dry-run %q: use none, client or server", v)
}
