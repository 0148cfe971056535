package core

import "strings"

// PrefixProblem says what is wrong with a CIDR that netip.ParsePrefix refused ("prefix length
// out of range", "no '/'"), without the Go call netip's message starts with.
func PrefixProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		msg = msg[i+len("): "):]
	}
	return msg
}
