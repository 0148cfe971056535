package versions

import (
	"fmt"
	"strings"
)

// FirstMinor and LastMinor bound the minors the matrix is printed for: the runbook's cluster and
// the newest the plugin was tested on.
const (
	FirstMinor = 21
	LastMinor  = 37
)

// Cell is what a component gets on a minor when no version is given.
type Cell struct {
	Version string
	// Stated: upstream states or tested the release there; Guess: only its bounds allow it;
	// neither (Version empty): no release installs there.
	Stated, Guess bool
}

// String is "v26.7.0", "26.03 (guess)" or "none".
func (c Cell) String() string {
	switch {
	case c.Version == "":
		return "none"
	case c.Guess:
		return c.Version + " (guess)"
	}
	return c.Version
}

// DefaultOn is the component's default on minor.
func (c Component) DefaultOn(minor int) Cell {
	r, stated, ok := c.Default(minor)
	if !ok {
		return Cell{}
	}
	return Cell{Version: r.Version, Stated: stated, Guess: !stated}
}

// Markdown is the matrix as the README prints it: the default per minor and component, then each
// component's releases with their stated range and hard bounds.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| Kubernetes |")
	for _, c := range Components {
		fmt.Fprintf(&b, " %s (`%s`) |", c.What, c.Section)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(Components)))
	b.WriteString("\n")
	for m := FirstMinor; m <= LastMinor; m++ {
		fmt.Fprintf(&b, "| 1.%d |", m)
		for _, c := range Components {
			fmt.Fprintf(&b, " %s |", c.DefaultOn(m))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n| section | release | upstream states or tested | installs on | source |\n|---|---|---|---|---|\n")
	for _, c := range Components {
		for _, r := range c.Releases {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Section, r.Version, r.Stated, r.InstallsOn(), strings.ReplaceAll(r.Source, "|", "\\|"))
		}
	}
	return b.String()
}

// InstallsOn says where the release installs and why not elsewhere ("any" when unbounded).
func (r Release) InstallsOn() string {
	span := r.installRange()
	if len(r.Bounds) == 0 {
		return "any"
	}
	whys := make([]string, 0, len(r.Bounds))
	for _, b := range r.Bounds {
		whys = append(whys, b.Why)
	}
	return fmt.Sprintf("%s: %s", span, strings.Join(whys, "; "))
}
