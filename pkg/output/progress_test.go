package output

import (
	"bytes"
	"testing"
)

// TestProgressSaysTheLastState: without a TTY, updates within a second of the last printed one
// are held back, and Done prints the newest of them, so a wait's last state is always said (a
// no-op re-run's "checked 612 of 612", not only its first "checked 1 of 612").
func TestProgressSaysTheLastState(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b)
	p.Update("checked %d of 3", 1)
	p.Update("checked %d of 3", 2)
	p.Update("checked %d of 3", 3)
	p.Done()
	p.Done()
	if got, want := b.String(), "checked 1 of 3\nchecked 3 of 3\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
