package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/test/testbed"
)

// readmeRunbook returns the commands of the README's "runbook as commands" block, one per
// command (continuation lines joined), without the leading "kubectl flexigrobots".
func readmeRunbook(t *testing.T) [][]string {
	t.Helper()
	root, err := testbed.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## The runbook as commands")
	if !ok {
		t.Fatal(`README has no "## The runbook as commands" section`)
	}
	_, rest, _ = strings.Cut(rest, "```bash\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds [][]string
	for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 || f[0] != "kubectl" || f[1] != "flexigrobots" {
			t.Fatalf("README runbook line is not a kubectl flexigrobots command: %q", line)
		}
		cmds = append(cmds, f[2:])
	}
	if len(cmds) < 5 {
		t.Fatalf("README runbook block has only %d commands", len(cmds))
	}
	return cmds
}

// onBed turns a README command into what runs on the test bed: the documentation addresses
// become loopback ones, the upstream chart repositories and the Kubeflow download the local
// mirrors (the test bed has no internet), and the files it names the bed's files. Nothing else
// changes: no flag is added that changes what the command does.
func (b *platformBed) onBed(args []string) []string {
	var out []string
	for _, a := range args {
		switch a {
		case readmeNFSServer:
			a = nfsServer
		case readmeLBAddress:
			a = bedLBAddress
		case "gh-secret.txt", "tls.crt", "tls.key":
			a = filepath.Join(b.dir, a)
		}
		out = append(out, a)
	}
	cmd := strings.Join(args[:min(2, len(args))], " ")
	switch {
	case cmd == "storage exports" || args[0] == "verify":
	case args[0] == "storage" || args[0] == "lb" || args[0] == "gpu":
		out = append(out, "--chart-repo", b.repo)
	case args[0] == "kubeflow":
		out = append(out, "--manifests", b.kfURL, "--remote-bases-mirror", b.mirror)
	}
	return out
}
