package apply

import (
	"strings"
	"testing"

	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/lb"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/storage"
	"github.com/flexigrobots/kubectl-flexigrobots/pkg/components/tls"
	"github.com/flexigrobots/kubectl-flexigrobots/schema"
)

// TestExampleShowsTheDefaults: a commented-out field of the example platform file shows the
// value the section takes when it is left out.
func TestExampleShowsTheDefaults(t *testing.T) {
	st, l, tl := &storage.Spec{}, &lb.Spec{}, &tls.Spec{Manual: &tls.Manual{}}
	st.Default()
	l.Default()
	tl.Default()
	example := string(schema.Example)
	for _, line := range []string{
		"# storageClass: " + st.StorageClass, "# releaseNamespace: " + st.ReleaseNamespace,
		"# pool: " + l.Pool, "# l2Advertisement: " + l.L2Advertisement,
		"# secretName: " + tl.Manual.SecretName,
	} {
		if !strings.Contains(example, line+"\n") && !strings.Contains(example, line+" ") {
			t.Errorf("the example lacks %q: a commented field must show its default", line)
		}
	}
}
