package output

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Count(0, "object"), "0 objects"},
		{Count(1, "object"), "1 object"},
		{Count(2, "CRD"), "2 CRDs"},
		{CountOf(1, 1, "object"), "1 of 1 object"},
		{CountOf(0, 3, "node"), "0 of 3 nodes"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
