package profile

import (
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	compprofile "github.com/flexigrobots/kubectl-flexigrobots/pkg/components/profile"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/core"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		args, flags []string
		want        string // "" valid
	}{
		{[]string{"alice"}, nil, ""},
		{nil, []string{"--all-profiles", "--watch"}, ""},
		{nil, []string{"--all-profiles", "--remove", "--dry-run=server"}, ""},
		{nil, nil, "which profile namespaces? give NAMESPACE arguments (kubectl get profiles) or --all-profiles"},
		{[]string{"alice"}, []string{"--all-profiles"}, "give NAMESPACE arguments or --all-profiles, not both"},
		{[]string{"alice", "Bob"}, nil, `NAMESPACE argument 2: "Bob" is not a valid namespace name`},
		{[]string{"alice"}, []string{"--watch"}, "use it with --all-profiles instead of NAMESPACE arguments"},
		{nil, []string{"--all-profiles", "--watch", "--remove"}, "--watch and --remove cannot be combined"},
		{nil, []string{"--all-profiles", "--watch", "--dry-run=server"}, "try --all-profiles --dry-run first"},
		{nil, []string{"--all-profiles", "--timeout=0s"}, "--timeout must be positive"},
	} {
		o := &PodDefaultOptions{}
		cmd := newCmdPodDefault(o)
		if err := cmd.Flags().Parse(tc.flags); err != nil {
			t.Fatal(err)
		}
		o.Spec.Namespaces = tc.args
		err := o.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v %v: %v", tc.args, tc.flags, err)
		case tc.want != "" && (err == nil || !core.IsUsageError(err) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v %v: want a usage error saying %q, got %v", tc.args, tc.flags, tc.want, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	cmd := newCmdPodDefault(&PodDefaultOptions{})
	if got := cmd.Flags().Lookup("timeout").DefValue; got != compprofile.DefaultTimeout.String() {
		t.Fatalf("--timeout defaults to %s", got)
	}
	if u := newCmdUninstall(nil, genericiooptions.IOStreams{}).Flags().Lookup("timeout").DefValue; u != compprofile.DefaultTimeout.String() {
		t.Fatalf("uninstall --timeout defaults to %s", u)
	}
}
