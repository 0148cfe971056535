package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestTimedOutRequests: a request the --timeout cut is said without the server's address, the
// query or Go's context words, and says what to do.
func TestTimedOutRequests(t *testing.T) {
	var out bytes.Buffer
	err := fmt.Errorf("lb: apply L2Advertisement metallb-system/ai-platform: %w", errors.New(`Get "https://127.0.0.1:43205/apis/metallb.io/v1beta1/namespaces/metallb-system/l2advertisements?fieldManager=kubectl-flexigrobots&force=false": context deadline exceeded`))
	if code := ExitCode(err, nil, &out); code != 1 {
		t.Fatalf("exit %d", code)
	}
	want := "error: lb: apply L2Advertisement metallb-system/ai-platform: Get /apis/metallb.io/v1beta1/namespaces/metallb-system/l2advertisements: the --timeout ran out (run again with a longer --timeout; what was done stays)\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
}
