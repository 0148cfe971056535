package core_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/flexigrobots/kubectl-flexigrobots"

// TestNoCobraBelowTheCommands: cobra and pflag are the commands' (pkg/plugin, cmd); no other
// package of the module imports them, nor a package of pkg/plugin, directly or through another
// package of the module. (helm's action package and cli-runtime's genericclioptions bring cobra
// into the build of the sections themselves; that is theirs, not a layer of ours.)
func TestNoCobraBelowTheCommands(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	isCommand := func(p string) bool {
		return strings.HasPrefix(p, module+"/pkg/plugin") || strings.HasPrefix(p, module+"/cmd/") ||
			strings.HasPrefix(p, module+"/test/") || strings.HasPrefix(p, module+"/hack/") || strings.HasPrefix(p, module+"/bench/")
	}
	forbidden := func(p string) bool {
		return strings.HasPrefix(p, "github.com/spf13/cobra") || strings.HasPrefix(p, "github.com/spf13/pflag") || strings.HasPrefix(p, module+"/pkg/plugin")
	}
	checked := 0
	for pkg := range imports {
		if isCommand(pkg) {
			continue
		}
		checked++
		// Walk the module's own packages only: a path to cobra through them is a layer of ours.
		seen := map[string]bool{}
		var walk func(p string, via []string)
		walk = func(p string, via []string) {
			for _, imp := range imports[p] {
				if forbidden(imp) {
					t.Errorf("%s imports %s (through %s): the flag kit lives in pkg/plugin; pass values, not flags", pkg, imp, strings.Join(append(via, p), " -> "))
					continue
				}
				if strings.HasPrefix(imp, module+"/") && !seen[imp] {
					seen[imp] = true
					walk(imp, append(via, p))
				}
			}
		}
		walk(pkg, nil)
	}
	if checked < 10 {
		t.Fatalf("only %d packages below the commands were checked: go list found too few", checked)
	}
}
